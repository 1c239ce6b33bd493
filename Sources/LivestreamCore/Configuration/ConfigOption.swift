import Foundation

/// One configuration key: its type, default and meaning.
///
/// The registry collects the core's options and every plugin's, so start-up can
/// reject unknown keys and the README's reference is generated from the same list.
public struct ConfigOption: Sendable {
    /// The value's type and allowed range.
    public enum Kind: Sendable {
        case string
        case integer(ClosedRange<Int>)
        case boolean
        /// Comma-separated in the environment, a JSON array in the file.
        case stringList
        case choice([String])
    }

    /// Dotted key, e.g. `storage.file.directory`.
    public let key: String
    public let kind: Kind
    /// Value used when neither the file nor the environment sets one; nil = unset.
    public let defaultValue: String?
    public let help: String
    /// Secret values are never printed.
    public let isSecret: Bool

    public init(_ key: String, _ kind: Kind, default defaultValue: String?, help: String, isSecret: Bool = false) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.isSecret = isSecret
    }

    /// The environment variable that overrides this key: `LIVESTREAM_` + key in upper case, `.` -> `_`.
    public var environmentVariable: String {
        "LIVESTREAM_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

/// A configuration problem found at start-up.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
