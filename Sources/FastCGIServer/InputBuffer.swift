#if canImport(Glibc)
import Glibc
#endif

/// Bytes of a request that arrived in more than one read, in one growable block.
///
/// Most requests arrive whole in one read and never touch one of these; a connection
/// allocates its buffer only when a request is split, and frees it when the request is done.
struct InputBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0

    init() {}

    deinit { free(base) }

    var isEmpty: Bool { count == 0 }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Makes room for at least `extra` more bytes; false when memory runs out.
    mutating func reserve(_ extra: Int) -> Bool {
        guard count + extra > capacity else { return true }
        var grown = max(capacity, 16384)
        while grown < count + extra { grown *= 2 }
        guard let memory = realloc(base, grown) else { return false }
        base = memory
        capacity = grown
        return true
    }

    /// Free space after the bytes (valid until the next change).
    var spare: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base.map { $0 + count }, count: capacity - count) }

    /// Counts `added` bytes written into `spare`.
    mutating func didAppend(_ added: Int) { count += added }

    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty else { return true }
        guard reserve(bytes.count) else { return false }
        (base! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
        return true
    }

    /// Drops `range` and moves what follows it down.
    mutating func remove(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let tail = count - range.upperBound
        if tail > 0 { (base! + range.lowerBound).copyMemory(from: base! + range.upperBound, byteCount: tail) }
        count -= range.count
    }

    /// Moves the bytes out into a new buffer, leaving this one empty.
    mutating func take() -> InputBuffer {
        var taken = InputBuffer()
        taken.base = base
        taken.count = count
        taken.capacity = capacity
        base = nil
        count = 0
        capacity = 0
        return taken
    }

    /// Empties the buffer and gives its memory back.
    mutating func release() {
        free(base)
        base = nil
        count = 0
        capacity = 0
    }
}
