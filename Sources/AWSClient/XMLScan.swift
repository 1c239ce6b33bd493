import Foundation

/// Reads values out of the small, flat XML answers of REST-XML services (S3 listings, CloudFront errors).
///
/// Not a general XML parser: it finds elements by name, which is all these answers need;
/// documents that must survive edits (CloudFront configs) need a real tree.
public enum XMLScan {
    /// The text of every `<name>...</name>` element, in document order, entities decoded.
    public static func texts(of name: String, in text: String) -> [String] {
        var results: [String] = []
        var cursor = text.startIndex
        while let open = text.range(of: "<\(name)>", range: cursor..<text.endIndex),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        {
            results.append(decodeEntities(String(text[open.upperBound..<close.lowerBound])))
            cursor = close.upperBound
        }
        return results
    }

    /// The text of the first `<name>` element.
    public static func text(of name: String, in text: String) -> String? {
        texts(of: name, in: text).first
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&#13;", with: "\r").replacingOccurrences(of: "&amp;", with: "&")
    }
}
