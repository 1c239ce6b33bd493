import Foundation

/// What a file's or directory's metadata says about its contents, for caching reads.
///
/// Every write renames a new file into the store directory, which gives the file a new
/// inode and ctime and moves the directory's mtime and ctime. Timestamps come from a
/// coarse clock, so two changes within one tick can share a stamp: a stamp is only
/// trusted (`isSettled`) once it is over a second old, when any later change is bound
/// to carry a different time.
struct FileStamp: Equatable, CustomStringConvertible {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: timespec
    let changed: timespec

    /// The stamp of `path`, or nil if it cannot be read (e.g. it does not exist).
    init?(_ path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = status.st_mtim
        changed = status.st_ctim
    }

    var isSettled: Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return max(modified.tv_sec, changed.tv_sec) + 1 < now.tv_sec
    }

    var description: String {
        "\(device).\(inode).\(size).\(modified.tv_sec).\(modified.tv_nsec).\(changed.tv_sec).\(changed.tv_nsec)"
    }

    static func == (lhs: FileStamp, rhs: FileStamp) -> Bool {
        lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
            && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
            && lhs.changed.tv_sec == rhs.changed.tv_sec && lhs.changed.tv_nsec == rhs.changed.tv_nsec
    }
}
