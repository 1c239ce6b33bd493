import Foundation

/// The service's resolved settings: a JSON file plus environment overrides over defaults.
///
/// Precedence: environment variable, then file, then the option's default. Every
/// value is checked against its option when loaded, so reading never fails for a
/// declared key.
public struct Configuration: Sendable {
    private enum Value: Sendable, Equatable {
        case text(String)
        case list([String])
    }

    private let values: [String: Value]
    private let options: [String: ConfigOption]

    /// Resolves the options.
    ///
    /// Every problem is reported at once (one line each): unknown keys in the file, unknown
    /// `LIVESTREAM_*` variables (a misspelt override must not be ignored), and bad values.
    /// - Parameters:
    ///   - options: every known key (core and all registered plugins).
    ///   - file: the parsed configuration file (nested objects with dotted paths), if any.
    ///   - environment: process environment.
    public init(options: [ConfigOption], file: JSONValue? = nil, environment: [String: String] = [:]) throws(ConfigurationError) {
        var byKey: [String: ConfigOption] = [:]
        for option in options { byKey[option.key] = option }
        var problems: [String] = []
        var fileValues: [String: JSONValue] = [:]
        if let file {
            guard case .object = file else { throw ConfigurationError("the configuration file must hold a JSON object") }
            Configuration.flatten(file, prefix: "", into: &fileValues)
        }
        for key in fileValues.keys.sorted() where byKey[key] == nil {
            let section = key.split(separator: ".").first.map(String.init) ?? key
            let known = byKey.keys.filter { $0.hasPrefix(section + ".") }.sorted()
            problems.append("unknown configuration key '\(key)'" + (known.isEmpty ? "" : "; keys under '\(section)': \(known.joined(separator: ", "))"))
        }
        let variables = Set(options.map(\.environmentVariable)).union(Configuration.otherVariables)
        for name in environment.keys.sorted() where name.hasPrefix("LIVESTREAM_") && !variables.contains(name) {
            let closest = variables.min { Configuration.distance(name, $0) < Configuration.distance(name, $1) }
            problems.append("unknown environment variable \(name)" + (closest.map { "; did you mean \($0)?" } ?? ""))
        }
        var resolved: [String: Value] = [:]
        for option in options {
            do {
                if let text = environment[option.environmentVariable] {
                    resolved[option.key] = try Configuration.check(text: text, option: option, source: option.environmentVariable)
                } else if let value = fileValues[option.key] {
                    resolved[option.key] = try Configuration.check(json: value, option: option)
                } else if let text = option.defaultValue {
                    resolved[option.key] = try Configuration.check(text: text, option: option, source: "default")
                }
            } catch {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems.joined(separator: "\n")) }
        self.values = resolved
        self.options = byKey
    }

    /// `LIVESTREAM_*` variables that are not option overrides.
    static let otherVariables: Set<String> = ["LIVESTREAM_CONFIG"]

    /// Edit distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Reads and resolves a configuration file (nil path = defaults and environment only).
    public static func load(path: String?, options: [ConfigOption], environment: [String: String]) throws(ConfigurationError) -> Configuration {
        guard let path else { return try Configuration(options: options, environment: environment) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read configuration file \(path)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(data))
        } catch {
            let (line, column) = Configuration.position(of: error.offset, in: Array(data))
            throw ConfigurationError("configuration file \(path) is not valid JSON: \(error.reason) at line \(line), column \(column)")
        }
        return try Configuration(options: options, file: json, environment: environment)
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes.prefix(max(0, min(offset, bytes.count)))
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return (line, String(decoding: before[lineStart...], as: UTF8.self).count + 1)
    }

    /// The value of a string or choice key, or nil when unset.
    public func string(_ key: String) -> String? {
        precondition(options[key] != nil, "undeclared configuration key \(key)")
        guard case .text(let text)? = values[key] else { return nil }
        return text
    }

    /// The value of a string key that must be set.
    public func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let text = string(key), !text.isEmpty else {
            throw ConfigurationError("\(key) must be set (file key '\(key)' or \(options[key]!.environmentVariable))")
        }
        return text
    }

    /// The value of an integer key (declared with a default).
    public func int(_ key: String) -> Int {
        Int(string(key) ?? "") ?? 0
    }

    /// The value of a boolean key (declared with a default).
    public func bool(_ key: String) -> Bool {
        string(key) == "true"
    }

    /// The value of a list key; empty when unset.
    public func list(_ key: String) -> [String] {
        precondition(options[key] != nil, "undeclared configuration key \(key)")
        guard case .list(let items)? = values[key] else { return [] }
        return items
    }

    /// Every resolved key with its value as text, secrets masked (for `livestreamd config`).
    public var redactedDescription: [(key: String, value: String)] {
        values.keys.sorted().map { key in
            let option = options[key]!
            let text: String
            switch values[key]! {
            case .text(let t): text = t
            case .list(let items): text = items.joined(separator: ",")
            }
            return (key, option.isSecret && !text.isEmpty ? "<redacted>" : text)
        }
    }

    /// Object members named `//...` are comments (JSON has none of its own).
    private static func flatten(_ value: JSONValue, prefix: String, into result: inout [String: JSONValue]) {
        if case .object(let members) = value {
            for (name, member) in members where !name.hasPrefix("//") {
                flatten(member, prefix: prefix.isEmpty ? name : prefix + "." + name, into: &result)
            }
        } else {
            result[prefix] = value
        }
    }

    private static func check(json: JSONValue, option: ConfigOption) throws(ConfigurationError) -> Value {
        switch (option.kind, json) {
        case (.stringList, .array(let items)):
            var strings: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    throw ConfigurationError("\(option.key) must be a list of strings")
                }
                strings.append(s)
            }
            return .list(strings)
        case (.stringList, .string(let text)):
            return try check(text: text, option: option, source: "file")
        case (_, .string(let text)):
            return try check(text: text, option: option, source: "file")
        case (.integer, .int(let number)):
            return try check(text: String(number), option: option, source: "file")
        case (.boolean, .bool(let flag)):
            return .text(flag ? "true" : "false")
        default:
            throw ConfigurationError("\(option.key) has the wrong type in the configuration file (found \(json.typeName))")
        }
    }

    private static func check(text: String, option: ConfigOption, source: String) throws(ConfigurationError) -> Value {
        switch option.kind {
        case .string:
            return .text(text)
        case .integer(let range):
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
                throw ConfigurationError("\(option.key) must be an integer in \(range.lowerBound)...\(range.upperBound) (\(source))")
            }
            return .text(String(number))
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .text("true")
            case "false", "0", "no", "off": return .text("false")
            default: throw ConfigurationError("\(option.key) must be true or false (\(source))")
            }
        case .stringList:
            return .list(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case .choice(let choices):
            guard choices.contains(text) else {
                throw ConfigurationError("\(option.key) is '\(text)' (\(source)); available: \(choices.joined(separator: ", "))")
            }
            return .text(text)
        }
    }
}
