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
