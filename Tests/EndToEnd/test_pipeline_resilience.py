"""The local pipeline when nginx or livestreamd change under a live stream (real nginx-rtmp and ffmpeg)."""
import signal
import time

import pytest
import requests

from conftest import start_stack
from support.waiting import eventually
from test_pipeline import push, session_folder

pytestmark = pytest.mark.pipeline


def live_stream(stack, segment_length=2):
    """A started stream with its primary encoder on air."""
    created = requests.post(stack.url("/streams"), json={"name": "resilience", "segment_length": segment_length}).json()
    record = requests.post(stack.url(f"/streams/{created['id']}/start")).json()
    publisher = push(record["rtmp1"], 120, size="320x240")
    eventually(lambda: requests.get(record["viewer_endpoint"]).status_code == 200, timeout=20, what="live HLS")
    return record, publisher


def archive_files(folder):
    return {path.name: path.stat().st_size for path in folder.iterdir() if path.suffix == ".ts"}


def test_stop_after_an_nginx_reload_disconnects_the_encoder_and_ends_the_archive(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    record, publisher = live_stream(stack)
    try:
        # A reload (certbot, another site's change): a new worker answers rtmp_control, the old one keeps the encoder.
        stack.nginx.send_signal(signal.SIGHUP)
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
        if publisher.poll() is None:
            publisher.kill()
        assert stack.stop()[0] == 0


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
        eventually(reconnects, timeout=12, interval=0, what="the same key to be accepted again")
        assert time.time() - restarted < 14
        assert "freed a publisher slot whose publisher is gone" in stack.service_log.read_text()
    finally:
        assert stack.stop()[0] == 0
