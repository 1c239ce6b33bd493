"""Reading and writing a session's archive folder, whichever archive plugin the stack runs."""
import re
from pathlib import Path

from aws_emulator_fixture import BUCKET, PREFIX


class FileArchive:
    root_pattern = r"file:///.+/"

    def __init__(self, stack):
        self.dir = stack.archive_dir

    @staticmethod
    def folder_and_stem(root):
        """A root is a folder (ending with /) or a folder and a file-name stem."""
        folder, stem = root[len("file://"):].rsplit("/", 1)
        return Path(folder), stem

    def put_segments(self, root, segments):
        """segments: [(name after the root, start, end)]; the archiver also leaves a CSV of real lengths."""
        folder, stem = self.folder_and_stem(root)
        for name, _, _ in segments:
            (folder / (stem + name)).write_bytes(b"\x47" + b"\xff" * 187)
        base = segments[0][0].rsplit(".", 2)[0]
        (folder / f"{stem}{base}.1.csv").write_text("".join(f"{stem}{n},{s},{e}\n" for n, s, e in segments))

    def playlists(self, root):
        """Playlist names after the root's stem."""
        folder, stem = self.folder_and_stem(root)
        return sorted(p.name[len(stem):] for p in folder.glob(f"{stem}*.m3u8"))

    def read(self, key):
        return (self.dir / key).read_text()


class S3Archive:
    root_pattern = re.escape(f"s3://{BUCKET}/{PREFIX}")

    def __init__(self, emulator):
        self.emulator = emulator
        self.s3 = emulator.client("s3")

    def key(self, root):
        assert root.startswith(f"s3://{BUCKET}/")
        return root[len(f"s3://{BUCKET}/"):]

    def put_segments(self, root, segments):
        """S3 keeps no lengths: the splitter uses segment_length for every segment."""
        self.emulator.seed([self.key(root) + name for name, _, _ in segments], body="G")

    def playlists(self, root):
        """Playlist names after the root's stem."""
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=self.key(root)).get("Contents", [])
        return sorted(o["Key"][len(self.key(root)):] for o in listed if o["Key"].endswith(".m3u8") and "/" not in o["Key"][len(self.key(root)):])

    def read(self, key):
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
