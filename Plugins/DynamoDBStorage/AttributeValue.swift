import Foundation
import LivestreamCore

/// DynamoDB's typed attribute values (`{"S": ...}`, `{"N": ...}`, ...) to and from JSON values.
///
/// Mirrors what boto3 writes for Python values: str -> S, int/float/Decimal -> N,
/// bool -> BOOL, None -> NULL, dict -> M, list -> L (sets -> SS/NS, read as lists).
enum AttributeValue {
    static func encode(_ value: JSONValue) -> JSONValue {
        switch value {
        case .null: ["NULL": true]
        case .bool(let b): ["BOOL": .bool(b)]
        case .int(let i): ["N": .string(String(i))]
        case .double(let d): ["N": .string(d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : "\(d)")]
        case .string(let s): ["S": .string(s)]
        case .array(let items): ["L": .array(items.map(encode))]
        case .object(let members): ["M": .object(members.mapValues(encode))]
        }
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    static func decode(_ attribute: JSONValue) throws -> JSONValue {
        guard case .object(let typed) = attribute, typed.count == 1, let (type, value) = typed.first else {
            throw Unreadable(description: "not a typed attribute value")
        }
        switch (type, value) {
        case ("S", .string(let s)): return .string(s)
        case ("N", .string(let n)): return number(n) ?? .string(n)
        case ("BOOL", .bool(let b)): return .bool(b)
        case ("NULL", _): return .null
        case ("M", .object(let members)): return .object(try members.mapValues(decode))
        case ("L", .array(let items)): return .array(try items.map(decode))
        case ("SS", .array(let items)): return .array(items)
        case ("NS", .array(let items)): return .array(items.map { $0.stringValue.flatMap(number) ?? $0 })
        case ("B", .string(let base64)): return .string(base64)
        default: throw Unreadable(description: "unsupported attribute type \(type)")
        }
    }

    static func number(_ text: String) -> JSONValue? {
        if let integer = Int64(text) { return .int(integer) }
        if let double = Double(text), double.isFinite { return double.rounded() == double && abs(double) < 1e15 ? .int(Int64(double)) : .double(double) }
        return nil
    }
}
