"""The local pipeline end to end: real nginx + nginx-rtmp + ffmpeg + livestreamd over libfcgi."""
import json
import math
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import backend_stack
from support.waiting import eventually

SEGMENT = 4


def push(url, seconds, size="640x360"):
    """Starts ffmpeg publishing a test pattern (video + audio) in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50",
         "-c:a", "aac", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ffprobe(url, *entries):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries", ":".join(entries), "-of", "json", url],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def key_of(record, field):
    return record[field].rsplit("/", 1)[1]


@pytest.fixture(scope="module", params=["file", "dynamodb"])
def stack(request, tmp_path_factory):
    """The local pipeline needs nginx-rtmp: on both storage backends, not on medialive."""
    yield from backend_stack(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def stream(stack):
    response = requests.post(stack.url("/streams"), json={"name": "e2e", "segment_length": SEGMENT})
    assert response.status_code == 200, response.text
    return response.json()


def session_folder(stack, record):
    root = record["archives_path"][record["current_session_id"]]
    assert root.startswith("file://" + str(stack.archive_dir) + "/")
    return Path(root[len("file://"):])


def test_record_carries_keys_only_in_ingest_urls(stack, stream):
    sid = stream["id"]
    for field in ("rtmp1", "rtmp2"):
        assert re.fullmatch(rf"rtmp://127\.0\.0\.1:{stack.rtmp_port}/live/{sid}_[0-9a-f]{{32}}", stream[field])
    assert key_of(stream, "rtmp1") != key_of(stream, "rtmp2")
    assert stream["viewer_endpoint"] == f"{stack.base}/hls/{sid}/index.m3u8"
    assert stream["viewer_endpoint_cloudfront"] == stream["viewer_endpoint"]


def test_publish_to_a_stopped_stream_is_refused(stack, stream):
    publisher = push(stream["rtmp1"], 3, size="320x240")
    assert publisher.wait(timeout=20) != 0
    assert not (stack.hls_dir / stream["id"]).exists()


def test_live_hls_archive_and_split(stack, stream):
    sid = stream["id"]
    started = requests.post(stack.url(f"/streams/{sid}/start"))
    assert started.status_code == 200, started.text
    record = started.json()
    assert record["started"] is True and re.fullmatch(r"[0-9a-f]{32}", record["current_session_id"])

    publisher = push(record["rtmp1"], 20)
    try:
        # Live HLS under the stream id, readable by ffprobe while the publisher is on.
        deadline = time.time() + 15
        while time.time() < deadline and requests.get(record["viewer_endpoint"]).status_code != 200:
            time.sleep(0.5)
        time.sleep(3)
        live = ffprobe(record["viewer_endpoint"], "stream=codec_type,codec_name,nb_read_packets")
        kinds = {s["codec_type"]: s for s in live["streams"]}
        assert kinds["video"]["codec_name"] == "h264" and int(kinds["video"]["nb_read_packets"]) > 0
        assert "audio" in kinds
    finally:
        assert publisher.wait(timeout=60) == 0, publisher.stderr.read()
    time.sleep(2)  # the archiver closes its last segment when the publisher leaves

    stopped = requests.post(stack.url(f"/streams/{sid}/stop"))
    assert stopped.status_code == 200 and stopped.json()["started"] is False
    assert stopped.json()["last_stopped"] is not None

    folder = session_folder(stack, record)
    segments = sorted(folder.glob("_1-*.ts"))
    counters = [int(p.name.split(".")[-2]) for p in segments]
    assert counters == list(range(1, len(counters) + 1)), counters
    assert all(re.fullmatch(r"_1-\d{8}T\d{6}\.\d{6}\.ts", p.name) for p in segments)
    lengths = {}
    for line in "".join(p.read_text() for p in folder.glob("*.csv")).split():
        name, start, end = line.split(",")
        lengths[name] = float(end) - float(start)
    assert set(lengths) == {p.name for p in segments}
    assert all(SEGMENT - 0.2 <= lengths[p.name] <= SEGMENT + 0.3 for p in segments[:-1]), lengths
    assert 18 <= sum(lengths.values()) <= 22, lengths
    # The archiver reported every finished segment: counted on the record.
    archive = eventually(lambda: (lambda a: a if a["segments"] == len(segments) else None)(
        requests.get(stack.url(f"/streams/{sid}")).json()["archive"]), timeout=5, what="every segment reported")
    assert int(archive["last_segment_at"]) >= int(record["last_started"]) and archive["last_error"] is None

    session = record["current_session_id"]
    ranges = [{"start": 0, "end": 8}, {"start": 4.5, "end": 12}]
    split = requests.post(stack.url(f"/streams/{sid}/split"),
                          json={"session_id": session, "timestamp_list": ranges, "name_modifier": "clip"})
    assert split.status_code == 200, split.text
    indexes = split.json()["indexes"]
    relative = str(folder.relative_to(stack.archive_dir))
    assert indexes == [f"{relative}/index_clip_0.m3u8", f"{relative}/index_clip_1.m3u8"]

    for key, asked in zip(indexes, ranges):
        text = (stack.archive_dir / key).read_text()
        extinf = [float(x) for x in re.findall(r"#EXTINF:([0-9.]+),", text)]
        assert extinf and text.rstrip().endswith("#EXT-X-ENDLIST")
        assert int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1)) == math.ceil(max(extinf))
        assert all(line.startswith("_1-") for line in text.splitlines() if line and not line.startswith("#"))
        played = ffprobe(f"{stack.base}/archive/{key}", "format=duration", "stream=codec_type,nb_read_packets")
        duration = float(played["format"]["duration"])
        assert abs(duration - (asked["end"] - asked["start"])) <= SEGMENT, (key, duration)
        video = [s for s in played["streams"] if s["codec_type"] == "video"]
        assert video and int(video[0]["nb_read_packets"]) > 0


def test_wrong_key_is_refused(stack, stream):
    sid = stream["id"]
    assert requests.post(stack.url(f"/streams/{sid}/start")).status_code == 200
    try:
        wrong = stream["rtmp1"].rsplit("_", 1)[0] + "_" + "0" * 32
        publisher = push(wrong, 3, size="320x240")
        assert publisher.wait(timeout=20) != 0
        assert not any("0" * 32 in str(path) for path in stack.hls_dir.rglob("*"))
        assert "publish with an unknown stream key" in stack.service_log.read_text()
    finally:
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200


def test_stop_disconnects_the_publisher_and_a_reconnect_is_refused(stack, stream):
    sid = stream["id"]
    assert requests.post(stack.url(f"/streams/{sid}/start")).status_code == 200
    publisher = push(stream["rtmp2"], 60, size="320x240")
    # With the primary silent, viewers get the backup at the stream's viewer endpoint.
    eventually(lambda: requests.get(stream["viewer_endpoint"]).status_code == 200, timeout=15, what="the backup pipeline live for viewers")
    assert requests.get(stack.url(f"/streams/{sid}")).json()["publishing"] == [2]
    assert not (stack.hls_dir / f"{sid}-backup").exists()
    stopped_at = time.time()
    assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200
    assert publisher.wait(timeout=15) != 0
    assert time.time() - stopped_at < 10
    again = push(stream["rtmp2"], 3, size="320x240")
    assert again.wait(timeout=20) != 0


def nginx_compiled_in_paths():
    """The folders nginx writes to unless told otherwise (`nginx -V`): logs, temp files, prefix."""
    flags = subprocess.run(["nginx", "-V"], capture_output=True, text=True).stderr
    paths = set()
    for name, value in re.findall(r"--([a-z-]+)=(\S+)", flags):
        if not value.startswith("/"):
            continue  # e.g. --error-log-path=stderr
        if name in ("prefix",) or name.endswith("temp-path"):
            paths.add(Path(value))
        elif name in ("http-log-path", "error-log-path"):
            paths.add(Path(value).parent)
    return [p for p in paths if p.is_dir()]


def test_keys_appear_in_no_file_nginx_or_livestreamd_writes(stack, stream):
    keys = [key_of(stream, "rtmp1"), key_of(stream, "rtmp2")]
    secrets = [k.split("_", 1)[1].encode() for k in keys] + [stack.internal_token.encode()]
    # The internal token is meant to be in the rendered nginx configuration and its own file (both 0600/0640).
    meant = {stack.run_dir / "internal.token", *stack.run_dir.glob("*.conf")}
    roots = [stack.dir, *nginx_compiled_in_paths()]
    assert Path("/var/log/nginx") in roots
    searched = 0
    for root in roots:
        for path in root.rglob("*"):
            if stack.storage_dir in path.parents or path in meant:
                continue  # the stream store keeps the records, whose ingest URLs carry the keys by contract
            assert not any(s in str(path).encode() for s in secrets), path
            if path.is_file():
                data = path.read_bytes()
                searched += 1
                assert not any(s in data for s in secrets), f"a stream key is in {path}"
    assert searched > 10
    log = stack.service_log.read_text(errors="replace")
    assert re.search(r"method=POST ms=[0-9.]+ path=/streams/[0-9a-f]{32}/start request_id=[0-9a-f]{32} status=200", log)


def test_delete_then_get_is_404(stack, stream):
    sid = stream["id"]
    deleted = requests.delete(stack.url(f"/streams/{sid}"))
    assert deleted.status_code == 200 and deleted.json()["id"] == sid
    gone = requests.get(stack.url(f"/streams/{sid}"))
    assert gone.status_code == 404 and gone.json()["code"] == "stream_not_found"
