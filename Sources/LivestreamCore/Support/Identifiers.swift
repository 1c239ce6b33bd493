import Foundation

/// Stream and session ids: a UUID4 as 32 lowercase hex characters.
public enum Identifier {
    /// A fresh random id.
    public static func make() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Whether `text` has the id format (32 lowercase hex characters).
    @inlinable  // specialised at the call site: every API request checks an id
    public static func isValid(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Whether `text` may name a stored stream.
    ///
    /// This service makes 32-hex ids, but a table shared with the old deployment holds
    /// items with other ids (the old `DELETE /live` wrote items under whatever id it was
    /// given); they must stay readable and deletable. Refused is only what is unsafe as a
    /// key or a file name: empty, over 60 characters (code points: a file name holds 60
    /// of any size), control characters, `/`, `\` or `%` (ambiguous in the URL that names
    /// it), a leading `.`, and the `livestreamd_` prefix of the service's own bookkeeping items.
    public static func isStorableStreamId(_ text: some StringProtocol) -> Bool {
        if isValid(text) { return true }
        guard (1...60).contains(text.unicodeScalars.count), text.utf8.first != UInt8(ascii: "."), !text.hasPrefix("livestreamd_") else { return false }
        return !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "/" || $0 == "\\" || $0 == "%" }
    }

    /// A random secret of `bytes` bytes as lowercase hex (from the system's CSPRNG).
    public static func secret(bytes: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return text
    }
}

/// Comparison that takes the same time wherever the inputs differ (for secrets).
public func constantTimeEquals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
    let length = max(x.count, y.count)
    for index in 0..<length {
        let left = index < x.count ? x[index] : 0
        let right = index < y.count ? y[index] : 0
        difference |= left ^ right
    }
    return difference == 0 && x.count == y.count
}
