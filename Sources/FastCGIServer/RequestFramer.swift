/// Checks the FastCGI records of one request as they arrive, before libfcgi sees any of them.
///
/// libfcgi trusts the lengths a peer declares (a name/value pair declaring 1 GiB makes
/// it abort) and reads with no deadline. The framer accepts exactly the shape a web
/// server sends for a responder request — `BEGIN_REQUEST`, `PARAMS` records up to an
/// empty one, `STDIN` records up to an empty one, all with the same request id — with
/// every name/value length inside the params stream and the params within
/// `maxParamsBytes`. Anything else is a `Refusal` and the connection is closed.
///
/// It works on the bytes buffered for the current request, from the request's first
/// byte, and only ever looks at whole records: `scan` resumes where the last call
/// stopped. A body over `maxBodyBytes` is not kept: its records are reported as
/// discardable and the request completes without it (the responder answers 413).
struct RequestFramer {
    /// Why a connection is closed instead of served.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        case unsupportedVersion(UInt8)
        case unexpectedRecord(type: UInt8, phase: String)
        case wrongRequestId(UInt16)
        case managementRecord
        case malformedBeginRequest
        case unsupportedRole(UInt16)
        case paramsTooLarge(limit: Int)
        case paramsTruncated

        var description: String {
            switch self {
            case .unsupportedVersion(let version): "FastCGI version \(version) (only 1 is spoken)"
            case .unexpectedRecord(let type, let phase): "record type \(type) while \(phase)"
            case .wrongRequestId(let id): "record for request id \(id) in another request (no multiplexing)"
            case .managementRecord: "management record (request id 0) is not supported"
            case .malformedBeginRequest: "BEGIN_REQUEST with a body other than 8 bytes"
            case .unsupportedRole(let role): "role \(role) (only the responder role, 1, is served)"
            case .paramsTooLarge(let limit): "params over \(limit) bytes (or a name/value length beyond them)"
            case .paramsTruncated: "params stream ended inside a name/value pair"
            }
        }
    }

    enum Outcome: Equatable {
        /// More bytes are needed; everything before `scanned` has been checked.
        case incomplete
        /// The request ends `length` bytes after its first byte.
        case complete(length: Int)
        case refused(Refusal)
    }

    static let headerLength = 8
    static let beginRequest: UInt8 = 1
    static let abortRequest: UInt8 = 2
    static let params: UInt8 = 4
    static let stdin: UInt8 = 5
    static let responderRole: UInt16 = 1
    static let keepConnectionFlag: UInt8 = 1

    private enum Phase { case begin, params, stdin }

    let maxParamsBytes: Int
    let maxBodyBytes: Int

    /// Offset of the first byte not yet checked (always a record boundary).
    private(set) var scanned = 0
    /// The request id from `BEGIN_REQUEST`.
    private(set) var requestId: UInt16 = 0
    /// Whether the web server keeps the connection open after the answer.
    private(set) var keepConnection = false
    /// Offset just after the empty `PARAMS` record (0 until seen).
    private(set) var paramsEnd = 0
    /// Body bytes seen so far, kept or not.
    private(set) var bodyBytes = 0
    /// True once the body went over `maxBodyBytes`; its records are no longer kept.
    private(set) var bodyTooLarge = false
    private var phase = Phase.begin
    private var paramsBytes = 0
    private var pairs = PairScanner()

    init(maxParamsBytes: Int, maxBodyBytes: Int) {
        self.maxParamsBytes = maxParamsBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Checks the whole records in `bytes` (the request's bytes so far, from its first byte).
    ///
    /// When `bodyTooLarge` is set after a call, the caller drops `bytes[paramsEnd..<scanned]`
    /// and calls `discarded()`, so an oversized body is never held in memory.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        while bytes.count - scanned >= RequestFramer.headerLength {
            let header = bytes.baseAddress! + scanned
            let version = header.load(fromByteOffset: 0, as: UInt8.self)
            let type = header.load(fromByteOffset: 1, as: UInt8.self)
            let id = UInt16(header.load(fromByteOffset: 2, as: UInt8.self)) << 8 | UInt16(header.load(fromByteOffset: 3, as: UInt8.self))
            let contentLength = Int(header.load(fromByteOffset: 4, as: UInt8.self)) << 8 | Int(header.load(fromByteOffset: 5, as: UInt8.self))
            let paddingLength = Int(header.load(fromByteOffset: 6, as: UInt8.self))
            guard version == 1 else { return .refused(.unsupportedVersion(version)) }
            guard id != 0 else { return .refused(.managementRecord) }
            if phase != .begin && id != requestId { return .refused(.wrongRequestId(id)) }
            let recordLength = RequestFramer.headerLength + contentLength + paddingLength
            // Refuse by header alone where the content cannot change the verdict.
            if let refusal = refusalBeforeContent(type: type, contentLength: contentLength) { return .refused(refusal) }
            guard bytes.count - scanned >= recordLength else { return .incomplete }
            let content = UnsafeRawBufferPointer(start: header + RequestFramer.headerLength, count: contentLength)
            switch phase {
            case .begin:
                let role = UInt16(content[0]) << 8 | UInt16(content[1])
                guard role == RequestFramer.responderRole else { return .refused(.unsupportedRole(role)) }
                requestId = id
                keepConnection = content[2] & RequestFramer.keepConnectionFlag != 0
                phase = .params
            case .params:
                if contentLength == 0 {
                    guard pairs.isAtPairBoundary else { return .refused(.paramsTruncated) }
                    phase = .stdin
                    paramsEnd = scanned + recordLength
                } else {
                    paramsBytes += contentLength
                    guard pairs.consume(content, limit: maxParamsBytes) else {
                        return .refused(.paramsTooLarge(limit: maxParamsBytes))
                    }
                }
            case .stdin:
                if contentLength == 0 {
                    scanned += recordLength
                    return .complete(length: scanned)
                }
                bodyBytes += contentLength
                if bodyBytes > maxBodyBytes { bodyTooLarge = true }
            }
            scanned += recordLength
        }
        return .incomplete
    }

    /// The caller has dropped the discarded body records (`paramsEnd..<scanned`).
    mutating func discarded() {
        scanned = paramsEnd
    }

    private func refusalBeforeContent(type: UInt8, contentLength: Int) -> Refusal? {
        switch phase {
        case .begin:
            guard type == RequestFramer.beginRequest else { return .unexpectedRecord(type: type, phase: "waiting for BEGIN_REQUEST") }
            return contentLength == 8 ? nil : .malformedBeginRequest
        case .params:
            guard type == RequestFramer.params else { return .unexpectedRecord(type: type, phase: "reading PARAMS") }
            return paramsBytes + contentLength > maxParamsBytes ? .paramsTooLarge(limit: maxParamsBytes) : nil
        case .stdin:
            return type == RequestFramer.stdin ? nil : .unexpectedRecord(type: type, phase: "reading STDIN")
        }
    }
}

/// Walks the name/value pairs of a params stream that arrives in pieces.
///
/// Each pair is a name length and a value length (one byte below 128, else four bytes
/// with the top bit set) and then that many bytes; a pair may span records.
struct PairScanner {
    /// Bytes read so far of a four-byte length field, and their value.
    private var lengthBytes = 0
    private var lengthValue = 0
    /// Which length is being read: 0 name, 1 value.
    private var field = 0
    private var nameLength = 0
    /// Bytes of names and values still to skip.
    private var skipping = 0

    var isAtPairBoundary: Bool { field == 0 && lengthBytes == 0 && skipping == 0 }

    /// Consumes one record's content; false when a declared length exceeds `limit`.
    mutating func consume(_ content: UnsafeRawBufferPointer, limit: Int) -> Bool {
        var index = 0
        while index < content.count {
            if skipping > 0 {
                let step = min(skipping, content.count - index)
                skipping -= step
                index += step
                continue
            }
            let byte = content[index]
            index += 1
            if lengthBytes == 0 && byte & 0x80 == 0 {
                guard finishLength(Int(byte), limit: limit) else { return false }
                continue
            }
            lengthValue = (lengthBytes == 0 ? Int(byte & 0x7F) : lengthValue << 8 | Int(byte))
            lengthBytes += 1
            if lengthBytes == 4 {
                lengthBytes = 0
                guard finishLength(lengthValue, limit: limit) else { return false }
            }
        }
        return true
    }

    private mutating func finishLength(_ length: Int, limit: Int) -> Bool {
        guard length <= limit else { return false }
        if field == 0 {
            nameLength = length
            field = 1
            return true
        }
        field = 0
        guard nameLength + length <= limit else { return false }
        skipping = nameLength + length
        return true
    }
}
