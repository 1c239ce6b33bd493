import TestSupport
import Testing

@testable import FastCGIServer

struct RequestFramerTests {
    typealias R = FastCGIRecords

    func scan(_ bytes: [UInt8], maxBody: Int = 1 << 20) -> RequestFramer.Outcome {
        var framer = RequestFramer(maxParamsBytes: 65536, maxBodyBytes: maxBody)
        return bytes.withUnsafeBytes { framer.scan($0) }
    }

    @Test func aWholeRequestCompletesAtItsLastByte() {
        let request = R.request(method: "POST", uri: "/streams", body: Array("{\"name\":\"a\"}".utf8))
        #expect(scan(request) == .complete(length: request.count))
        // A pipelined next request is not part of it.
        #expect(scan(request + R.request()) == .complete(length: request.count))
    }

    @Test(arguments: [1, 3, 7, 8, 9, 64])
    func aRequestArrivingInPiecesCompletesOnlyWhenWhole(piece: Int) {
        let request = R.request(method: "POST", uri: "/streams", body: [UInt8](repeating: 0x20, count: 300))
        var framer = RequestFramer(maxParamsBytes: 65536, maxBodyBytes: 1 << 20)
        var end = 0
        while end < request.count {
            end = min(request.count, end + piece)
            let outcome = Array(request[0..<end]).withUnsafeBytes { framer.scan($0) }
            #expect(outcome == (end == request.count ? .complete(length: request.count) : .incomplete))
        }
        #expect(framer.keepConnection && framer.requestId == 1)
    }

    @Test(arguments: [(0x3fff_ffff, 0x3fff_ffff), (0x4000_0000, 0x4000_0000), (0x7fff_fffe, 0), (0x7fff_fff0, 0x10), (70000, 1), (1, 70000)])
    func lengthsBeyondTheParamsAreRefused(name: Int, value: Int) {
        let lengths = R.length(name, long: true) + R.length(value, long: true)
        #expect(scan(R.begin() + R.record(4, lengths + [UInt8](repeating: 0x41, count: 16))) == .refused(.paramsTooLarge(limit: 65536)))
        // The same with the length fields cut across two records.
        let split = R.begin() + R.record(4, Array(lengths[0..<3])) + R.record(4, Array(lengths[3...]) + [0x41])
        #expect(scan(split) == .refused(.paramsTooLarge(limit: 65536)))
    }

    @Test func paramsEndingInsideAPairAreRefused() {
        let lengths = R.length(20) + R.length(20) + Array("ABC".utf8)
        #expect(scan(R.begin() + R.record(4, lengths) + R.record(4)) == .refused(.paramsTruncated))
    }

    @Test func paramsOverTheLimitAreRefusedByTheirHeaders() {
        let big = (0..<70).flatMap { R.pair("HTTP_X_\($0)", String(repeating: "v", count: 1000)) }
        let request = R.begin() + R.stream(4, big)
        // Refused as soon as the record header that crosses the limit is there, before its content.
        let prefix = Array(request[0..<(16 + 8 + 65535 + 1 + 8)])
        #expect(scan(prefix) == .refused(.paramsTooLarge(limit: 65536)))
    }

    @Test func shapesOtherThanOneResponderRequestAreRefused() {
        #expect(scan(R.record(9, id: 0, [])) == .refused(.managementRecord))
        #expect(scan(R.begin(role: 2)) == .refused(.unsupportedRole(2)))
        #expect(scan(R.record(1, [0, 1, 1, 0])) == .refused(.malformedBeginRequest))
        #expect(scan(R.record(4, R.pair("A", "B"))) == .refused(.unexpectedRecord(type: 4, phase: "waiting for BEGIN_REQUEST")))
        #expect(scan(R.begin() + R.record(5, [1])) == .refused(.unexpectedRecord(type: 5, phase: "reading PARAMS")))
        #expect(scan(R.begin() + R.record(4, id: 2, R.pair("A", "B"))) == .refused(.wrongRequestId(2)))
        #expect(scan(R.begin() + R.stream(4, R.pair("A", "B")) + R.record(2)) == .refused(.unexpectedRecord(type: 2, phase: "reading STDIN")))
        var version2 = R.begin()
        version2[0] = 2
        #expect(scan(version2) == .refused(.unsupportedVersion(2)))
    }

    @Test func aBodyOverTheLimitIsDroppedAndTheRequestStillCompletes() {
        let request = R.request(method: "POST", uri: "/streams", body: [UInt8](repeating: 0x20, count: 100_000))
        var framer = RequestFramer(maxParamsBytes: 65536, maxBodyBytes: 1000)
        var buffer = Array(request[0..<70_000])  // the first 64-KB body record is whole
        #expect(buffer.withUnsafeBytes { framer.scan($0) } == .incomplete)
        #expect(framer.bodyTooLarge)
        // The caller drops what the framer discards; only the head stays buffered.
        buffer.removeSubrange(framer.paramsEnd..<framer.scanned)
        framer.discarded()
        buffer += request[70_000...]
        guard case .complete(let length) = buffer.withUnsafeBytes({ framer.scan($0) }) else {
            Issue.record("not complete")
            return
        }
        #expect(length == buffer.count && framer.bodyTooLarge && framer.bodyBytes == 100_000)
    }

    /// Random inputs (seeded): the framer never traps and always answers one of its outcomes.
    @Test func randomInputsNeverTrap() {
        var generator = SeededGenerator(seed: 20_261_129)
        let valid = R.request(method: "POST", uri: "/streams", body: Array("{}".utf8))
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            switch scan(bytes) {
            case .complete(let length): #expect(length <= bytes.count)
            case .incomplete, .refused: break
            }
        }
    }
}
