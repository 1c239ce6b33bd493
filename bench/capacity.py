"""How many concurrent 720p publishers one host carries through the local pipeline.

For each N (default 10 50 100 150): N streams are created and started, N ffmpeg
publishers push a pre-encoded 720p file (`-c copy`, looped, real time) to their `rtmp1`
URLs, 20 coming on air per second; each stream gets key check, failover relay, live HLS and an archive. Beside it, in
the same run and on the same nginx, the reference: N publishers into a bare nginx-rtmp
application doing only HLS and the same ffmpeg segmenter archive (no livestreamd, no
hooks, no relay hop). Printed per N, for both:
  - CPU per stream: nginx (master, worker, archivers) plus livestreamd, % of one core,
    over the measuring window (the publishers, which stand for remote encoders, apart);
  - late: the share of HLS segments that appeared more than one target duration after
    their due time (first segment's appearance + the durations before them);
  - first: seconds from starting the publisher to the first segment in its playlist
    (median and maximum);
  - lost: archive segments missing between a stream's first and last segment
    (livestreamd's counters are wall-clock slots, so a gap is a loss).
The largest N with no late segment, no lost segment and every first segment within
10 s is reported. Bounded: WINDOW seconds (default 30) per N and side.

    bench/capacity.py [N ...]            (LIVESTREAMD_BIN: the binary; bench/run.sh sets it)
"""
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "EndToEnd"))
from stack import Stack  # noqa: E402

LEVELS = [int(n) for n in sys.argv[1:]] or [10, 50, 100, 150]
WINDOW = int(os.environ.get("WINDOW", "30"))
SEGMENT_LENGTH = 4
FIRST_SEGMENT_LIMIT = 10
# Encoders come on air at this rate (a start storm of encoders on this host would measure their own start-up).
STARTS_PER_SECOND = 20
TICK = os.sysconf("SC_CLK_TCK")
SOURCE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "livestreamd-bench" / "720p30-2500k.flv"


def source_file():
    """20 s of 1280x720 at 30 fps, 2.5 Mb/s H.264 (keyframe every 2 s) and AAC, encoded once."""
    if not SOURCE.exists():
        SOURCE.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440", "-t", "20", "-c:v", "libx264", "-preset", "veryfast",
             "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k", "-g", "60", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "128k", str(SOURCE) + ".tmp.flv"], check=True)
        os.rename(str(SOURCE) + ".tmp.flv", SOURCE)
    return SOURCE


def add_reference_application(stack):
    """A bare HLS + archive application, inserted into the rendered rtmp snippet's server {}."""
    reference = stack.run_dir / "bench"
    (reference / "hls").mkdir(parents=True, exist_ok=True)
    (reference / "archive").mkdir(parents=True, exist_ok=True)
    application = f"""
        application bench_reference {{
            live on;
            allow play 127.0.0.1;
            deny play all;
            wait_key on;
            wait_video on;
            idle_streams off;
            hls on;
            hls_path {reference}/hls;
            hls_nested on;
            hls_fragment 2s;
            hls_playlist_length 30s;
            hls_cleanup on;
            exec_kill_signal term;
            exec_push ffmpeg -nostdin -loglevel error -i rtmp://127.0.0.1:{stack.rtmp_port}/bench_reference/$name -c copy -map 0
                -f segment -segment_format mpegts -segment_time {SEGMENT_LENGTH} -reset_timestamps 1 {reference}/archive/$name-%06d.ts;
        }}
"""
    conf = stack.run_dir / "livestreamd-rtmp.conf"
    text = conf.read_text()
    cut = text.rstrip().rstrip("}").rstrip().rstrip("}")
    conf.write_text(cut + application + "    }\n}\n")


def cpu_by_pid(pids):
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return seconds


def descendants(root):
    """root and every process below it."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    return found


class PlaylistWatch:
    """When each segment of each playlist first appeared (read from disk, every 0.2 s)."""

    def __init__(self, playlists):
        self.playlists = playlists
        self.seen = {path: {} for path in playlists}  # path -> {segment: (appeared, duration)}
        self.target = {}

    def poll(self):
        now = time.time()
        for path in self.playlists:
            try:
                text = path.read_text()
            except OSError:
                continue
            target = re.search(r"#EXT-X-TARGETDURATION:(\d+)", text)
            if target:
                self.target[path] = int(target.group(1))
            for duration, name in re.findall(r"#EXTINF:([0-9.]+),\s*\n(\S+)", text):
                self.seen[path].setdefault(name, (now, float(duration)))

    def first_appearance(self, path):
        times = [t for t, _ in self.seen[path].values()]
        return min(times) if times else None

    def late_share(self, since):
        """Segments that appeared after `since`, and how many of them were late."""
        late = total = 0
        for path, segments in self.seen.items():
            ordered = sorted(segments.values())
            if not ordered:
                continue
            due = ordered[0][0]
            for appeared, duration in ordered[1:]:
                due += duration
                if appeared >= since:
                    total += 1
                    late += appeared - due > self.target.get(path, 2)
        return late, total


def publish(url):
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(SOURCE), "-c", "copy", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_level(stack, count, reference):
    """One side (livestreamd or the reference) with `count` publishers; returns its figures."""
    session = requests.Session()
    if reference:
        names = [f"ref{count}x{n}" for n in range(count)]
        urls = [f"rtmp://127.0.0.1:{stack.rtmp_port}/bench_reference/{name}" for name in names]
        playlists = [stack.run_dir / "bench" / "hls" / name / "index.m3u8" for name in names]
        records = []
    else:
        records = []
        for n in range(count):
            created = session.post(stack.url("/streams"), json={"name": f"capacity {n}", "segment_length": SEGMENT_LENGTH}).json()
            records.append(session.post(stack.url(f"/streams/{created['id']}/start")).json())
        urls = [record["rtmp1"] for record in records]
        playlists = [stack.hls_dir / record["id"] / "index.m3u8" for record in records]
    watch = PlaylistWatch(playlists)
    publishers, started = [], {}
    for path, url in zip(playlists, urls):
        started[path] = time.time()
        publishers.append(publish(url))
        time.sleep(1 / STARTS_PER_SECOND)
    try:
        deadline = time.time() + FIRST_SEGMENT_LIMIT + 20
        while time.time() < deadline and any(watch.first_appearance(p) is None for p in playlists):
            watch.poll()
            time.sleep(0.2)
        firsts = [watch.first_appearance(p) - started[p] if watch.first_appearance(p) else float("inf") for p in playlists]
        server = descendants(stack.nginx.pid) | {stack.service.pid}
        encoders = [p.pid for p in publishers]
        before, encoders_before = cpu_by_pid(server), cpu_by_pid(encoders)
        window_start = time.time()
        while time.time() < window_start + WINDOW:
            watch.poll()
            time.sleep(0.2)
        after, encoders_after = cpu_by_pid(server), cpu_by_pid(encoders)
        elapsed = time.time() - window_start
        late, total = watch.late_share(window_start)
        cpu = sum(after[pid] - before[pid] for pid in after if pid in before) / elapsed / count * 100
        publisher_cpu = sum(encoders_after[pid] - encoders_before[pid] for pid in encoders_after if pid in encoders_before) / elapsed / count * 100
    finally:
        for publisher in publishers:
            publisher.terminate()
        for publisher in publishers:
            publisher.wait()
    lost, archived = 0, 0
    if reference:
        time.sleep(2)
        archived = len(list((stack.run_dir / "bench" / "archive").glob(f"ref{count}x*.ts")))
    else:
        for record in records:
            session.post(stack.url(f"/streams/{record['id']}/stop"))
        for record in records:
            folder = Path(record["archives_path"][record["current_session_id"]][len("file://"):])
            counters = sorted(int(p.stem.rsplit(".", 1)[1]) for p in folder.glob("_1-*.ts"))
            archived += len(counters)
            if counters:
                lost += (counters[-1] - counters[0] + 1) - len(counters)
            else:
                lost += 1
        for record in records:
            session.delete(stack.url(f"/streams/{record['id']}"))
    return {"cpu": cpu, "late": late, "segments": total, "first_median": statistics.median(firsts), "first_max": max(firsts),
            "lost": lost, "archived": archived, "publisher_cpu": publisher_cpu}


def main():
    source_file()
    # BENCH_DIR: keep the stack's folder (logs, HLS, archives) there for a look afterwards.
    kept = os.environ.get("BENCH_DIR")
    with (contextlib.nullcontext(tempfile.mkdtemp(dir=kept)) if kept else tempfile.TemporaryDirectory()) as workdir:
        stack = Stack(workdir, extra_env={"LIVESTREAM_LOG_LEVEL": os.environ.get("LIVESTREAM_LOG_LEVEL", "warning")})
        stack.render_nginx()
        add_reference_application(stack)
        stack.start_service()
        stack.start_nginx()
        stack.wait_ready()
        try:
            print(f"720p30 2.5 Mb/s publishers (-c copy, looped, real time); window {WINDOW} s; segment_length {SEGMENT_LENGTH} s; "
                  f"{os.cpu_count()} cores; livestreamd {stack.binary or os.environ.get('LIVESTREAMD_BIN', 'debug')}")
            print(f"{'N':>5} {'side':<12}{'cpu/stream':>11}{'late':>12}{'first med':>10}{'first max':>10}{'lost':>6}"
                  f"{'archived':>9}{'encoder cpu':>12}")
            on_time = 0
            for count in LEVELS:
                results = {}
                for side in ("livestreamd", "reference"):
                    results[side] = figures = run_level(stack, count, reference=side == "reference")
                    print(f"{count:>5} {side:<12}{figures['cpu']:>10.2f}%{figures['late']:>5}/{figures['segments']:<6}"
                          f"{figures['first_median']:>9.1f}s{figures['first_max']:>9.1f}s{figures['lost']:>6}{figures['archived']:>9}"
                          f"{figures['publisher_cpu']:>11.2f}%", flush=True)
                ours = results["livestreamd"]
                if ours["late"] == 0 and ours["lost"] == 0 and ours["first_max"] <= FIRST_SEGMENT_LIMIT:
                    on_time = count
                else:
                    break
            print(f"largest N with every livestreamd stream on time: {on_time}")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
