import Foundation

/// An XML document kept byte for byte: elements, raw text, and everything else as written.
///
/// CloudFront's distribution config holds far more than this service models (Lambda
/// associations, custom headers, logging, aliases...). Editing the document itself,
/// not a partial model of it, is what keeps all of that intact: parsing and
/// serialising an unedited document gives back the same bytes, and an edit touches
/// only the elements it adds, removes or changes. Text is kept raw (entities
/// undecoded); `text` decodes it for reading.
struct XMLTree: Equatable, Sendable {
    indirect enum Node: Equatable, Sendable {
        case element(Element)
        /// Character data exactly as written (entities undecoded).
        case text(String)
        /// Declarations, processing instructions, comments, CDATA: written back as read.
        case other(String)
    }

    struct Element: Equatable, Sendable {
        var name: String
        /// The attributes as written, with their leading whitespace (namespaces included).
        var rawAttributes: String
        var children: [Node]
        var isEmptyTag: Bool

        init(name: String, rawAttributes: String = "", children: [Node] = [], isEmptyTag: Bool = false) {
            self.name = name
            self.rawAttributes = rawAttributes
            self.children = children
            self.isEmptyTag = isEmptyTag
        }

        /// `<name>text</name>` with the text escaped.
        init(_ name: String, text: String) {
            self.init(name: name, children: [.text(XMLTree.escape(text))])
        }

        /// `<name>children</name>`.
        init(_ name: String, _ children: [Element]) {
            self.init(name: name, children: children.map(Node.element))
        }

        var elements: [Element] {
            children.compactMap { if case .element(let e) = $0 { e } else { nil } }
        }

        func child(_ name: String) -> Element? { elements.first { $0.name == name } }

        /// The decoded text content (of text children only).
        var text: String {
            XMLTree.unescape(children.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined())
        }

        /// Changes the first child element named `name` (false when there is none).
        @discardableResult
        mutating func modifyChild(_ name: String, _ change: (inout Element) throws -> Void) rethrows -> Bool {
            for index in children.indices {
                if case .element(var element) = children[index], element.name == name {
                    try change(&element)
                    children[index] = .element(element)
                    return true
                }
            }
            return false
        }

        mutating func append(_ element: Element) {
            isEmptyTag = false
            children.append(.element(element))
        }

        /// Inserts `element` before the first child element (at the end when there is none).
        mutating func prepend(_ element: Element) {
            isEmptyTag = false
            if let first = children.firstIndex(where: { if case .element = $0 { true } else { false } }) {
                children.insert(.element(element), at: first)
            } else {
                children.append(.element(element))
            }
        }

        /// Removes the child elements matching `predicate` (the text around them stays as it was).
        mutating func removeElements(where predicate: (Element) -> Bool) {
            children.removeAll { node in
                if case .element(let element) = node { predicate(element) } else { false }
            }
        }
    }

    var nodes: [Node]

    /// The root element (the first element at the top level).
    var root: Element? {
        get { nodes.lazy.compactMap { if case .element(let e) = $0 { e } else { nil } }.first }
        set {
            guard let newValue, let index = nodes.firstIndex(where: { if case .element = $0 { true } else { false } }) else { return }
            nodes[index] = .element(newValue)
        }
    }
}

/// A document that is not well-formed enough to edit safely.
struct XMLTreeError: Error, CustomStringConvertible {
    let description: String
}

extension XMLTree {
    init(parsing text: String) throws {
        var parser = Parser(bytes: Array(text.utf8))
        nodes = try parser.nodes(until: nil)
    }

    var serialized: String {
        var out = ""
        for node in nodes { XMLTree.write(node, to: &out) }
        return out
    }

    static func write(_ node: Node, to out: inout String) {
        switch node {
        case .text(let t), .other(let t):
            out += t
        case .element(let e):
            out += "<" + e.name + e.rawAttributes
            if e.isEmptyTag && e.children.isEmpty {
                out += "/>"
                return
            }
            out += ">"
            for child in e.children { write(child, to: &out) }
            out += "</" + e.name + ">"
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    private struct Parser {
        /// Markup kept as written: declarations and processing instructions, comments, CDATA, doctype.
        static let specials: [(opener: String, closer: String)] = [("<?", "?>"), ("<!--", "-->"), ("<![CDATA[", "]]>"), ("<!", ">")]

        let bytes: [UInt8]
        var position = 0

        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

        func starts(with prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            return position + p.count <= bytes.count && Array(bytes[position..<position + p.count]) == p
        }

        /// Index just past `terminator`, searching from the current position.
        func end(of terminator: String) throws -> Int {
            let t = Array(terminator.utf8)
            var i = position
            while i + t.count <= bytes.count {
                if bytes[i] == t[0] && Array(bytes[i..<i + t.count]) == t { return i + t.count }
                i += 1
            }
            throw XMLTreeError(description: "unterminated \(terminator) at byte \(position)")
        }

        mutating func nodes(until closing: String?) throws -> [Node] {
            var result: [Node] = []
            while position < bytes.count {
                if bytes[position] != UInt8(ascii: "<") {
                    let start = position
                    while position < bytes.count && bytes[position] != UInt8(ascii: "<") { position += 1 }
                    result.append(.text(string(start..<position)))
                    continue
                }
                if let (_, closer) = Parser.specials.first(where: { starts(with: $0.opener) }) {
                    let stop = try end(of: closer)
                    result.append(.other(string(position..<stop)))
                    position = stop
                    continue
                }
                if starts(with: "</") {
                    let stop = try end(of: ">")
                    let name = string(position + 2..<stop - 1).trimmingCharacters(in: .whitespaces)
                    guard name == closing else { throw XMLTreeError(description: "unexpected </\(name)> at byte \(position)") }
                    position = stop
                    return result
                }
                result.append(.element(try element()))
            }
            if let closing { throw XMLTreeError(description: "missing </\(closing)>") }
            return result
        }

        mutating func element() throws -> Element {
            position += 1
            let nameStart = position
            while position < bytes.count, !" \t\r\n/>".utf8.contains(bytes[position]) { position += 1 }
            let name = string(nameStart..<position)
            guard !name.isEmpty else { throw XMLTreeError(description: "empty element name at byte \(nameStart)") }
            let attributesStart = position
            var quote: UInt8?
            while position < bytes.count {
                let b = bytes[position]
                if let q = quote {
                    if b == q { quote = nil }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: ">") {
                    break
                }
                position += 1
            }
            guard position < bytes.count else { throw XMLTreeError(description: "unterminated <\(name)") }
            let selfClosing = position > attributesStart && bytes[position - 1] == UInt8(ascii: "/")
            let attributes = string(attributesStart..<(selfClosing ? position - 1 : position))
            position += 1
            if selfClosing { return Element(name: name, rawAttributes: attributes, isEmptyTag: true) }
            return Element(name: name, rawAttributes: attributes, children: try nodes(until: name))
        }
    }
}
