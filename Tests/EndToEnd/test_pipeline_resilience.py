"""The local pipeline when nginx or livestreamd change under a live stream (real nginx-rtmp and ffmpeg)."""
import re
import signal
import subprocess
import time
from urllib.parse import urljoin

import pytest
import requests

from conftest import start_stack
from stack import DetachedProcess
from support.waiting import eventually
from test_pipeline import ffprobe, push, session_folder

pytestmark = pytest.mark.pipeline


def live_stream(stack, segment_length=2):
    """A started stream with its primary encoder on air."""
    created = requests.post(stack.url("/streams"), json={"name": "resilience", "segment_length": segment_length}).json()
    record = requests.post(stack.url(f"/streams/{created['id']}/start")).json()
    publisher = push(record["rtmp1"], 120, size="320x240")
    eventually(lambda: requests.get(record["viewer_endpoint"]).status_code == 200, timeout=20, what="live HLS")
    return record, publisher


def shut_down(stack, *publishers):
    """Ends what a test started: its encoders still on air, then the stack (livestreamd must exit 0)."""
    for publisher in publishers:
        if publisher.poll() is None:
            publisher.kill()
            publisher.wait()
    assert stack.stop()[0] == 0


def archive_files(folder):
    return {path.name: path.stat().st_size for path in folder.iterdir() if path.suffix == ".ts"}


def upgrade_nginx_binary(stack):
    """nginx's binary upgrade: USR2 starts a new master (its own workers), WINCH retires the old workers.

    Returns the new master's pid; the old master stays (stack.nginx) until the stack stops.
    """
    old = stack.nginx.pid
    stack.nginx.send_signal(signal.SIGUSR2)
    pid_file = stack.run_dir / "nginx.pid"
    new = eventually(lambda: (lambda pid: pid if pid and pid != old else None)(
        int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0), timeout=10, what="the new nginx master")
    stack.nginx.send_signal(signal.SIGWINCH)
    return new


@pytest.mark.parametrize("change", ["reload", "binary upgrade"])
def test_stop_after_an_nginx_reload_disconnects_the_encoder_and_ends_the_archive(tmp_path_factory, change):
    stack = start_stack(tmp_path_factory, detached_nginx=change == "binary upgrade")
    record, publisher = live_stream(stack)
    upgraded = None
    try:
        # A reload (certbot, another site's change) or a binary upgrade (a Debian nginx update): newer workers
        # answer rtmp_control, the old one keeps the encoder.
        if change == "reload":
            stack.nginx.send_signal(signal.SIGHUP)
        else:
            upgraded = DetachedProcess(upgrade_nginx_binary(stack))
        time.sleep(3)
        assert publisher.poll() is None, "the encoder should still be on air after the reload"
        stopped_at = time.time()
        stopped = requests.post(stack.url(f"/streams/{record['id']}/stop"))
        assert stopped.status_code == 200 and stopped.json()["started"] is False
        publisher.wait(timeout=10)
        assert time.time() - stopped_at < 10, "the encoder stayed on air"
        folder = session_folder(stack, record)
        time.sleep(1)
        before = archive_files(folder)
        assert before, "nothing was archived"
        time.sleep(6)
        assert archive_files(folder) == before, "the archive kept growing after stop"
    finally:
        if upgraded:
            upgraded.send_signal(signal.SIGQUIT)
            upgraded.wait(timeout=10)
        shut_down(stack, publisher)


def test_an_encoder_lost_while_livestreamd_was_down_can_publish_again(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    record, publisher = live_stream(stack)
    stack.service.kill()  # kill -9: on_publish_done of the encoder below is lost
    stack.service.wait()
    publisher.kill()
    publisher.wait()
    time.sleep(1)
    stack.start_service()
    restarted = time.time()

    def reconnects():
        """One attempt of an encoder reconnecting with the same key: still on air after 2 s means accepted."""
        attempt = push(record["rtmp1"], 20, size="320x240")
        time.sleep(2)
        accepted = attempt.poll() is None
        attempt.kill()
        attempt.wait()
        return accepted

    try:
        # The start-up round asks nginx-rtmp (stat) and frees the slot of the lost encoder.
        def slot_freed():
            answer = requests.get(stack.url(f"/streams/{record['id']}"))  # 502 until the service is up
            return answer.status_code == 200 and answer.json()["publishing"] == []

        eventually(slot_freed, timeout=8, what="the lost encoder's slot freed")
        assert "freed the publisher slots of encoders nginx-rtmp no longer has" in stack.service_log.read_text()
        eventually(reconnects, timeout=6, interval=0, what="the same key to be accepted again")
        assert time.time() - restarted < 10
    finally:
        assert stack.stop()[0] == 0


def test_only_the_ingest_relay_publishes_into_live_hls_and_control_needs_the_token(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        record = requests.post(stack.url("/streams"), json={"name": "guarded"}).json()
        requests.post(stack.url(f"/streams/{record['id']}/start"))
        hls = f"rtmp://127.0.0.1:{stack.rtmp_port}/hls/{record['id']}"
        # A local process publishing straight into the HLS application, with or without a guessed page URL.
        for extra in ([], ["-rtmp_pageurl", "0" * 32]):
            direct = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "10",
                 "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", *extra, "-f", "flv", hls],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert direct.wait(timeout=10) != 0, "a direct publish into live HLS was accepted"
        assert not (stack.hls_dir / record["id"]).exists(), "a playlist appeared"
        assert "publish into live HLS from outside the ingest application" in stack.service_log.read_text()
        # The encoder through the ingest application still goes live.
        publisher = push(record["rtmp1"], 8, size="320x240")
        eventually(lambda: requests.get(record["viewer_endpoint"]).status_code == 200, timeout=20, what="live HLS through the relay")
        publisher.wait(timeout=30)

        control = f"http://127.0.0.1:{stack.internal_port}"
        assert requests.get(f"{control}/control/drop/publisher?app=live&name={record['id']}").status_code == 403
        assert requests.get(f"{control}/stat").status_code == 403
        assert requests.get(f"{control}/stat?token={stack.internal_token}").status_code == 200
        hook = requests.post(f"{control}/_internal/rtmp/archive", data={"name": record["id"]})
        assert hook.status_code == 403
        spoofed = requests.post(f"{control}/_internal/rtmp/archive?token=wrong", data={"name": record["id"], "token": stack.internal_token})
        assert spoofed.status_code == 403, "the URL's token is the one that counts"
        # The live folders (where livestreamd ends and removes them as nginx's user) take the token in a header only,
        # and only a stream folder's playlist or the folder itself.
        folder = f"{control}/live-folders/{record['id']}/"
        assert requests.delete(folder).status_code == 403
        assert requests.delete(folder + f"?token={stack.internal_token}").status_code == 403
        assert requests.put(folder + "index.m3u8", data="#EXTM3U\n", headers={"X-Livestreamd-Token": "wrong"}).status_code == 403
        assert not requests.put(folder + "other.txt", data="x", headers={"X-Livestreamd-Token": stack.internal_token}).ok
        assert not (stack.hls_dir / record["id"] / "other.txt").exists() and (stack.hls_dir / record["id"] / "index.m3u8").exists()
    finally:
        assert stack.stop()[0] == 0


def test_a_stopped_stream_ends_its_playlist_and_delete_removes_its_folders(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    record, publisher = live_stream(stack)
    try:
        time.sleep(4)
        assert "#EXT-X-ENDLIST" not in requests.get(record["viewer_endpoint"]).text
        assert requests.post(stack.url(f"/streams/{record['id']}/stop")).status_code == 200
        publisher.wait(timeout=10)
        playlist = requests.get(record["viewer_endpoint"])
        assert playlist.status_code == 200 and playlist.text.rstrip().endswith("#EXT-X-ENDLIST"), playlist.text
        assert "#EXTINF" in playlist.text
        assert requests.delete(stack.url(f"/streams/{record['id']}")).status_code == 200
        assert not (stack.hls_dir / record["id"]).exists()
        assert requests.get(record["viewer_endpoint"]).status_code == 404
    finally:
        shut_down(stack, publisher)


def test_an_archiver_that_cannot_archive_is_logged_and_on_the_record(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    created = requests.post(stack.url("/streams"), json={"name": "unarchived", "segment_length": 2}).json()
    assert created["archive"] == {"segments": None, "last_segment_at": None, "last_error": None, "last_error_at": None}
    record = requests.post(stack.url(f"/streams/{created['id']}/start")).json()
    folder = session_folder(stack, record)
    folder.rmdir()  # the session folder is gone (a clean-up script, a full disk's aftermath...)
    publisher = push(record["rtmp1"], 8, size="320x240")
    try:
        failed = eventually(lambda: requests.get(stack.url(f"/streams/{record['id']}")).json()["archive"]["last_error"], timeout=20,
                            what="the archiver's failure on the record")
        assert "does not exist" in failed and str(folder) in failed
        assert "archive failed" in stack.service_log.read_text()
        # A new session starts with a clean slate.
        publisher.wait(timeout=30)
        requests.post(stack.url(f"/streams/{record['id']}/stop"))
        restarted = requests.post(stack.url(f"/streams/{record['id']}/start")).json()
        assert restarted["archive"]["last_error"] is None
    finally:
        shut_down(stack, publisher)


def test_a_late_backup_lines_up_with_the_primary_in_the_archive(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    length = 2
    created = requests.post(stack.url("/streams"), json={"name": "failover", "segment_length": length}).json()
    record = requests.post(stack.url(f"/streams/{created['id']}/start")).json()
    started = int(record["last_started"])
    primary = push(record["rtmp1"], 12, size="320x240")
    time.sleep(6)
    backup = push(record["rtmp2"], 18, size="320x240")
    try:
        assert primary.wait(timeout=30) == 0, "the primary ends (as if killed) while the backup goes on"
        assert backup.wait(timeout=30) == 0
        time.sleep(2)
        assert requests.post(stack.url(f"/streams/{record['id']}/stop")).status_code == 200
        folder = session_folder(stack, record)
        backup_counters = sorted(int(p.stem.rsplit(".", 1)[1]) for p in folder.glob("_2-*.ts"))
        assert backup_counters and backup_counters[0] >= 6 // length, f"the late backup was numbered from the session start: {backup_counters}"
        # A clip across the primary's end comes from the backup, at the right place in time.
        split = requests.post(stack.url(f"/streams/{record['id']}/split"),
                              json={"session_id": record["current_session_id"], "timestamp_list": [{"start": 8, "end": 20}], "name_modifier": "gap"})
        assert split.status_code == 200, split.text
        playlist = stack.archive_dir / split.json()["indexes"][0]
        names = [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]
        assert names and all(name.startswith("_2-") for name in names[2:]), names
        for name in names:
            ended = (folder / name).stat().st_mtime - started  # a segment's file is last written when it closes
            assert 8 - length <= ended <= 20 + 3 * length, f"{name} closed at {ended:.1f} s, outside the clip [8, 20)"
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(playlist)],
                               capture_output=True, text=True, timeout=60)
        assert abs(float(probe.stdout.strip()) - 12) <= 2 * length, probe.stdout + probe.stderr
    finally:
        shut_down(stack, primary, backup)


def newest_segment(playlist_url):
    """(sequence number, URL) of the newest segment of a live playlist."""
    text = requests.get(playlist_url).text
    sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    return sequence + len(segments) - 1, urljoin(playlist_url, segments[-1])


def frame_width(url):
    return ffprobe(url, "stream=width")["streams"][0]["width"]


def test_viewers_follow_the_backup_while_the_primary_is_down_and_return_to_it(tmp_path_factory):
    """Primary at 320x240, backup at 256x144: the viewer endpoint's newest segment says which one plays."""
    stack = start_stack(tmp_path_factory)
    length = 2
    created = requests.post(stack.url("/streams"), json={"name": "failover", "segment_length": length}).json()
    sid = created["id"]
    assert created["publishing"] == []
    record = requests.post(stack.url(f"/streams/{sid}/start")).json()
    started = int(record["last_started"])
    viewers = record["viewer_endpoint"]
    primary = push(record["rtmp1"], 120, size="320x240")
    backup = push(record["rtmp2"], 120, size="256x144")
    returned = None
    try:
        eventually(lambda: requests.get(stack.url(f"/streams/{sid}")).json()["publishing"] == [1, 2], timeout=20, what="both pipelines publishing")
        eventually(lambda: requests.get(viewers).status_code == 200, timeout=20, what="live HLS")
        eventually(lambda: frame_width(newest_segment(viewers)[1]) == 320, timeout=10, what="the primary for viewers")
        time.sleep(4)
        before, _ = newest_segment(viewers)
        primary.kill()
        killed = time.time() - started
        # The playlist keeps advancing within 3 segment durations, now with the backup's pictures.
        eventually(lambda: newest_segment(viewers)[0] > before, timeout=3 * 2, what="the viewer playlist advancing after the primary died")
        eventually(lambda: frame_width(newest_segment(viewers)[1]) == 256, timeout=3 * 2, what="the backup for viewers")
        assert requests.get(stack.url(f"/streams/{sid}")).json()["publishing"] == [2]
        time.sleep(6)
        # The primary comes back: viewers return to it.
        returned = push(record["rtmp1"], 120, size="320x240")
        eventually(lambda: frame_width(newest_segment(viewers)[1]) == 320, timeout=15, what="viewers back on the primary")
        back = time.time() - started
        assert requests.get(stack.url(f"/streams/{sid}")).json()["publishing"] == [1, 2]
        time.sleep(6)
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200
        assert requests.get(viewers).text.rstrip().endswith("#EXT-X-ENDLIST")
        assert not (stack.hls_dir / f"{sid}-backup").exists(), "the backup has no viewer folder of its own"

        # A clip across the primary's absence: its middle comes from the backup, in the right place in time.
        folder = session_folder(stack, record)
        clip_start, clip_end = int(killed) - 4, int(back) + 2
        split = requests.post(stack.url(f"/streams/{sid}/split"),
                              json={"session_id": record["current_session_id"], "timestamp_list": [{"start": clip_start, "end": clip_end}], "name_modifier": "gap"})
        assert split.status_code == 200, split.text
        playlist = stack.archive_dir / split.json()["indexes"][0]
        names = [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]
        assert any(name.startswith("_2-") for name in names), names
        for name in names:
            ended = (folder / name).stat().st_mtime - started  # a segment's file is last written when it closes
            assert clip_start - length <= ended <= clip_end + 3 * length, f"{name} closed at {ended:.1f} s, outside the clip"
            if killed + 2 * length <= ended <= back - length:
                assert name.startswith("_2-") and frame_width(str(folder / name)) == 256, f"{name} at {ended:.1f} s is not the backup's"
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(playlist)],
                               capture_output=True, text=True, timeout=60)
        assert abs(float(probe.stdout.strip()) - (clip_end - clip_start)) <= 2 * length, probe.stdout + probe.stderr
    finally:
        shut_down(stack, *[p for p in (primary, backup, returned) if p])
