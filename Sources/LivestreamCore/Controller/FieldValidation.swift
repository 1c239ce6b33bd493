import Foundation

/// Checks of client-supplied values, shared by the use-case inputs.
///
/// Every failure is a 400 whose message names the field and the rule.
enum FieldValidation {
    static func object(_ body: JSONValue?, allowEmpty: Bool) throws(ServiceError) -> [String: JSONValue] {
        switch body {
        case nil where allowEmpty: return [:]
        case nil: throw .badRequest("a JSON object body is required", code: "invalid_body")
        case .object(let members)?: return members
        case let other?: throw .badRequest("the body must be a JSON object, not \(other.typeName)", code: "invalid_body")
        }
    }

    /// - Parameter allowEmpty: `""` is a value (the old deployment accepted an empty `name`).
    static func text(
        _ value: JSONValue?, field: String, maxLength: Int, required: Bool, allowNewlines: Bool = false, allowEmpty: Bool = false
    ) throws(ServiceError) -> String? {
        guard let value, value != .null else {
            if required { throw .badRequest("\(field) is required") }
            return nil
        }
        guard case .string(let text) = value else {
            throw .badRequest("\(field) must be a string, not \(value.typeName)")
        }
        if required && !allowEmpty && text.isEmpty { throw .badRequest("\(field) must not be empty") }
        // Code points, as JSON Schema's maxLength counts them (not grapheme clusters).
        if text.unicodeScalars.count > maxLength { throw .badRequest("\(field) is longer than \(maxLength) characters") }
        let allowed: Set<Unicode.Scalar> = allowNewlines ? ["\n", "\t", "\r"] : []
        if text.unicodeScalars.contains(where: { isControl($0) && !allowed.contains($0) }) {
            throw .badRequest("\(field) must not contain control characters")
        }
        return text
    }

    /// A whole number in `range`, given as a JSON integer, a whole-number float (`10.0`) or a
    /// numeric string (`"120"`): the old deployment ran `int()` on what clients sent.
    static func integer(_ value: JSONValue?, field: String, range: ClosedRange<Int>) throws(ServiceError) -> Int? {
        guard let value, value != .null else { return nil }
        let whole: Double?
        switch value {
        case .int(let i): whole = Double(i)
        case .double(let d): whole = d
        case .string(let s):
            // Digits with an optional all-zero fraction ("120", "10.0"), spaces around: what int() took.
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
            let wellFormed = (1...2).contains(parts.count) && !parts[0].isEmpty && parts[0].utf8.allSatisfy { (0x30...0x39).contains($0) }
                && (parts.count == 1 || parts[1].utf8.allSatisfy { $0 == UInt8(ascii: "0") })
            whole = wellFormed ? Double(trimmed) : nil
        default:
            throw .badRequest("\(field) must be an integer, not \(value.typeName)")
        }
        guard let whole, whole.isFinite, whole.rounded() == whole, whole >= Double(range.lowerBound), whole <= Double(range.upperBound) else {
            throw .badRequest("\(field) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(whole)
    }

    /// Seconds given as a JSON number or a numeric string (old clients send both).
    static func seconds(_ value: JSONValue?, field: String) throws(ServiceError) -> Double {
        let number: Double?
        switch value {
        case .int(let i)?: number = Double(i)
        case .double(let d)?: number = d
        case .string(let s)?: number = decimal(s.trimmingCharacters(in: .whitespaces))
        case nil, .null?: throw .badRequest("\(field) is required")
        default: number = nil
        }
        guard let number, number.isFinite else { throw .badRequest("\(field) must be a number of seconds") }
        guard number >= 0 else { throw .badRequest("\(field) must not be negative") }
        return number
    }

    /// Digits with an optional fraction (`"120"`, `"1.5"`); nil for anything else (`"1e3"`, `"inf"`, `""`).
    private static func decimal(_ text: String) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let digits: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
        guard (1...2).contains(parts.count), parts.allSatisfy(digits) else { return nil }
        return Double(text)
    }

    static func identifier(_ value: JSONValue?, field: String) throws(ServiceError) -> String {
        guard case .string(let text)? = value else {
            throw .badRequest("\(field) is required: a 32-character lowercase hex id")
        }
        guard Identifier.isValid(text) else { throw .badRequest("\(field) must be a 32-character lowercase hex id") }
        return text
    }

    /// Client fields outside the contract: kept as given, within bounds.
    static func extraFields(_ members: [String: JSONValue]) throws(ServiceError) -> [String: JSONValue] {
        let extra = members.filter { !StreamRecord.contractFields.contains($0.key) && !StreamRecord.isReservedFieldName($0.key) }
        if extra.count > maxExtraFields { throw .badRequest("at most \(maxExtraFields) extra fields are kept") }
        for key in extra.keys where key.isEmpty || key.count > 128 || key.unicodeScalars.contains(where: isControl) {
            throw .badRequest("extra field names must be 1-128 characters without control characters")
        }
        return extra
    }

    static let maxExtraFields = 64

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
