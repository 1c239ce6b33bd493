import Foundation

/// Tells the store which documents changed, from inotify, on its own thread.
///
/// The record cache trusts an entry until the watch reports a change of its file, so a
/// cached read costs no system call. A change another process makes is seen once this
/// thread has read its event (normally well under a millisecond after the rename);
/// the store's own writes drop their entries before they return.
final class DirectoryWatch: Sendable {
    /// What changed: one document (by file name), or possibly everything.
    enum Change {
        case file(String)
        case everything
        /// The watch stopped working (directory removed or moved): fall back to stamps.
        case watchLost
    }

    private let fd: Int32

    /// Starts watching `directory`; nil when inotify is not available (the caller validates by stamps).
    init?(directory: String, onChange: @escaping @Sendable (Change) -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
        let fd = self.fd
        let thread = Thread {
            DirectoryWatch.readEvents(fd: fd, onChange: onChange)
        }
        thread.name = "store-watch"
        thread.start()
    }

    private static func readEvents(fd: Int32, onChange: @Sendable (Change) -> Void) {
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer, capacity)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                onChange(.watchLost)
                return
            }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                let nameStart = buffer + offset + MemoryLayout<inotify_event>.size
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
                if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    onChange(.everything)
                } else if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                    onChange(.watchLost)
                    return
                } else if event.len > 0 {
                    onChange(.file(String(cString: nameStart.assumingMemoryBound(to: CChar.self))))
                }
            }
        }
    }
}
