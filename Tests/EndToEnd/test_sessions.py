"""Sessions and clips (issue 14): a real publish through nginx-rtmp with the encoder gone mid-session,
stop, split, read back with ffprobe, delete; and a session's objects deleted from S3 (the emulator)."""
import time
from pathlib import Path

import pytest
import requests

from aws_emulator_fixture import BUCKET, PREFIX
from conftest import emulated_aws_stack, start_stack
from support.waiting import eventually
from test_pipeline import ffprobe, push

pytestmark = pytest.mark.observe

SEGMENT = 2
FPS = 25  # push()'s test pattern; a keyframe every 2 s, so segments are cut at exactly 2 s


def played_seconds(url):
    """How long the playlist really plays: its video packets over the frame rate."""
    probed = ffprobe(url, "stream=codec_type,nb_read_packets")
    video = [s for s in probed["streams"] if s["codec_type"] == "video"]
    return int(video[0]["nb_read_packets"]) / FPS


def publish_for(url, seconds):
    publisher = push(url, seconds, size="320x240")
    assert publisher.wait(timeout=seconds + 30) == 0, publisher.stderr.read()


def length(r):
    return r["end"] - r["start"]


def plays_as_achieved(clip):
    """The clip's video plays its achieved range minus its gaps. The timeline counts segments by the archiver's
    lengths, whose first segment per archiver run starts with up to ~0.1 s of audio before the first picture:
    so 0.2 s, and 0.1 s more per gap (each gap is another run)."""
    expected = length(clip["achieved"]) - sum(length(g) for g in clip["gaps"])
    played = played_seconds(clip["url"])
    assert abs(played - expected) <= 0.2 + 0.1 * len(clip["gaps"]), (clip, played, expected)


def test_a_session_with_a_gap_its_clips_and_its_deletion(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        sid = requests.post(stack.url("/streams"), json={"name": "recorded", "segment_length": SEGMENT}).json()["id"]
        record = requests.post(stack.url(f"/streams/{sid}/start")).json()
        session = record["current_session_id"]
        live = requests.get(stack.url(f"/streams/{sid}/sessions/{session}"))
        assert live.status_code == 200 and live.json()["live"] is True and live.json()["stopped_at"] is None
        refused = requests.delete(stack.url(f"/streams/{sid}/sessions/{session}"))
        assert refused.status_code == 409 and refused.json()["code"] == "session_live"

        # The encoder publishes, goes away for a while (a gap), and comes back.
        publish_for(record["rtmp1"], 8)
        time.sleep(7)
        publish_for(record["rtmp1"], 6)
        folder = Path(record["archives_path"][session][len("file://"):])
        eventually(lambda: requests.get(stack.url(f"/streams/{sid}")).json()["archive"]["segments"] == len(list(folder.glob("_1-*.ts"))),
                   timeout=15, what="every segment reported")
        stopped = requests.post(stack.url(f"/streams/{sid}/stop")).json()

        on_disk = sorted(folder.glob("_1-*.ts"))
        counters = [int(p.name.split(".")[-2]) for p in on_disk]
        missing = sorted(set(range(counters[0], counters[-1] + 1)) - set(counters))
        assert len(missing) >= 2, f"the encoder's absence left no hole in the counters: {counters}"
        lengths = {}
        for line in "".join(p.read_text() for p in folder.glob("*.csv")).split():
            name, start, end = line.split(",")
            lengths[name] = float(end) - float(start)

        report = requests.get(stack.url(f"/streams/{sid}/sessions/{session}")).json()
        assert report["session_id"] == session and report["live"] is False
        assert (report["started_at"], report["stopped_at"]) == (record["last_started"], stopped["last_stopped"])
        assert report["duration_seconds"] == int(stopped["last_stopped"]) - int(record["last_started"]) >= 21
        [primary] = report["pipelines"]  # nothing published to the backup
        assert primary["pipeline"] == 1 and primary["segments"] == len(on_disk)
        assert primary["bytes"] == sum(p.stat().st_size for p in on_disk)
        assert abs(primary["seconds"] - sum(lengths.values())) < 0.01
        # One gap, as long as the missing counters at the nominal length, between the two covered runs.
        assert len(report["gaps"]) == 1 and len(primary["covered"]) == 2, report
        gap = report["gaps"][0]
        assert abs(length(gap) - len(missing) * SEGMENT) < 0.01
        assert primary["covered"][0]["end"] == gap["start"] and primary["covered"][1]["start"] == gap["end"]
        assert abs(report["archive"]["seconds"] - (sum(lengths.values()) + length(gap))) < 0.01
        relative = folder.relative_to(stack.archive_dir)
        assert report["archive"] == {"root": record["archives_path"][session], "url": f"{stack.base}/archive/{relative}/",
                                     "seconds": report["archive"]["seconds"]}
        assert report["clips"] == []

        # A clip inside the first run, and one across the gap.
        first_run_end = primary["covered"][0]["end"]
        asked = [{"start": 1, "end": 3.5}, {"start": first_run_end - 1, "end": gap["end"] + 1}]
        split = requests.post(stack.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": asked, "name_modifier": "cut"})
        assert split.status_code == 200, split.text
        answer = split.json()
        assert answer["indexes"] == [f"{relative}/index_cut_0.m3u8", f"{relative}/index_cut_1.m3u8"]
        clips = answer["clips"]
        assert [c["index"] for c in clips] == answer["indexes"] and [c["asked"] for c in clips] == asked
        inside, across = clips
        # Cut at segment boundaries around what was asked: [1, 3.5) plays from 0 to the end of the segment holding 3.5 s.
        ends, total = [], 0.0
        for p in on_disk:
            total += lengths[p.name]
            ends.append(total)
        assert inside["achieved"]["start"] == 0 and abs(inside["achieved"]["end"] - next(e for e in ends if e > 3.5)) < 0.002, inside
        assert inside["gaps"] == [] and inside["pipeline"] == 1
        assert across["achieved"]["start"] <= asked[1]["start"] and across["achieved"]["end"] >= asked[1]["end"]
        assert across["gaps"] == [gap] and across["filled"] == []
        for clip in clips:
            assert clip["url"] == f"{stack.base}/archive/{clip['index']}"
            plays_as_achieved(clip)
        whole = requests.post(stack.url(f"/streams/{sid}/split"), json={
            "session_id": session, "timestamp_list": [{"start": 0, "end": report["archive"]["seconds"]}], "name_modifier": "all"}).json()["clips"][0]
        assert whole["achieved"] == {"start": 0, "end": report["archive"]["seconds"]} and whole["gaps"] == [gap]
        plays_as_achieved(whole)

        # Exact clips: the edges cut at the asked instants (ffmpeg encodes only up to the nearest keyframes).
        asked_exactly = [{"start": 1, "end": 3.5}, {"start": round(first_run_end - 1.3, 3), "end": round(gap["end"] + 1.7, 3)}]
        exact = requests.post(stack.url(f"/streams/{sid}/split"), json={
            "session_id": session, "timestamp_list": asked_exactly, "name_modifier": "exact", "exact": True})
        assert exact.status_code == 200, exact.text
        exact_clips = exact.json()["clips"]
        for clip, asked_range in zip(exact_clips, asked_exactly):
            assert clip["exact"] is True and clip["achieved"] == asked_range, clip
            plays_as_achieved(clip)
        assert exact_clips[1]["gaps"] == [gap]
        assert len(list(folder.glob("index_exact_*_head_*.ts"))) >= 1 and len(list(folder.glob("index_exact_*_tail_*.ts"))) >= 1

        listed = requests.get(stack.url(f"/streams/{sid}/sessions")).json()["sessions"]
        assert [s["session_id"] for s in listed] == [session]
        assert [(c["index"], c["asked"], c["achieved"], c["exact"]) for c in listed[0]["clips"]] == [
            (c["index"], c["asked"], c["achieved"], c["exact"]) for c in (whole, inside, across, *exact_clips)]

        files = len(list(folder.iterdir()))
        deleted = requests.delete(stack.url(f"/streams/{sid}/sessions/{session}"))
        assert deleted.status_code == 200 and deleted.json() == {"session_id": session, "files_removed": files}
        assert not folder.exists()
        assert requests.get(inside["url"]).status_code == 404
        assert requests.get(stack.url(f"/streams/{sid}/sessions/{session}")).json()["code"] == "session_not_found"
        assert session not in requests.get(stack.url(f"/streams/{sid}")).json()["archives_path"]
        events = requests.get(stack.url(f"/streams/{sid}/events")).json()["events"]
        assert events[-1]["type"] == "archive.session_deleted" and events[-1]["data"]["session_id"] == session
        assert events[-1]["data"]["files"] == files
    finally:
        stack.stop()


def test_deleting_a_session_removes_its_objects_from_s3(tmp_path_factory):
    for stack in emulated_aws_stack(tmp_path_factory, livestream_archive_s3_public_url="https://media.example/vod"):
        s3 = stack.emulator.client("s3")
        sid = requests.post(stack.url("/streams"), json={"name": "in s3", "segment_length": 4}).json()["id"]
        record = requests.post(stack.url(f"/streams/{sid}/start")).json()
        session = record["current_session_id"]
        root = record["archives_path"][session]
        key = root[len(f"s3://{BUCKET}/"):]
        # As MediaLive writes them: both pipelines, counters from 0; the backup lost one.
        names = [f"_1x.{n:06d}.ts" for n in range(4)] + [f"_2x.{n:06d}.ts" for n in (0, 1, 3)]
        stack.emulator.seed([key + n for n in names], body="G" * 188)
        neighbour = f"{PREFIX}elsewhere/_1x.000000.ts"
        stack.emulator.seed([neighbour], body="G")
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200

        split = requests.post(stack.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": [{"start": 5, "end": 15}]}).json()
        clip = split["clips"][0]
        assert clip["achieved"] == {"start": 4, "end": 16} and clip["pipeline"] == 1
        assert clip["url"] == "https://media.example/vod/" + clip["index"][len(PREFIX):]
        refused = requests.post(stack.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": [{"start": 5, "end": 6}], "exact": True})
        assert refused.status_code == 400 and refused.json()["code"] == "exact_unsupported"
        report = requests.get(stack.url(f"/streams/{sid}/sessions/{session}")).json()
        assert [(p["pipeline"], p["segments"], p["bytes"]) for p in report["pipelines"]] == [(1, 4, 4 * 188), (2, 3, 3 * 188)]
        assert report["pipelines"][1]["covered"] == [{"start": 0, "end": 8}, {"start": 12, "end": 16}] and report["gaps"] == []
        assert report["archive"]["root"] == root and report["archive"]["url"] == "https://media.example/vod/" + key[len(PREFIX):]
        assert [c["asked"] for c in report["clips"]] == [{"start": 5, "end": 15}]

        deleted = requests.delete(stack.url(f"/streams/{sid}/sessions/{session}")).json()
        assert deleted["files_removed"] == len(names) + 2, "the segments, the clip's playlist and its note"
        left = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        assert not [k for k in left if k.startswith(key)] and neighbour in left
        assert "s3:DeleteObject" in stack.emulator.actions()
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200
