"""Live status on the record (issue 14): a real ffmpeg publisher through nginx-rtmp, as GET answers show it."""
import time

import pytest
import requests

from conftest import emulated_aws_stack, start_stack
from contract import check
from stack import REPO
from support.waiting import eventually
from test_pipeline import push

pytestmark = pytest.mark.observe


def pipeline(stack, sid, number):
    record = requests.get(stack.url(f"/streams/{sid}")).json()
    return next(p for p in record["pipelines"] if p["pipeline"] == number)


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame marker."""
    at = 2
    while at + 9 < len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[at + 7:at + 9], "big"), int.from_bytes(data[at + 5:at + 7], "big")
        at += 2 + length
    return None


def test_status_follows_a_publisher_through_nginx_rtmp(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    publisher = None
    try:
        created = requests.post(stack.url("/streams"), json={"name": "watched", "segment_length": 2}).json()
        sid = created["id"]
        assert created["pipelines"] == requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"], "every answer shows the status"
        idle = requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"]
        assert [(p["pipeline"], p["publishing"], p["on_air"], p["input"], p["publishing_since"]) for p in idle] == [
            (1, False, False, None, None), (2, False, False, None, None)]
        assert all(p["live_url"] == created["viewer_endpoint"] and p["alerts"] == [] for p in idle)

        record = requests.post(stack.url(f"/streams/{sid}/start")).json()
        before = int(time.time())
        publisher = push(record["rtmp1"], 40, size="320x240")
        on = eventually(lambda: (lambda p: p if p["input"] and p["input"]["bits_per_second"] else None)(pipeline(stack, sid, 1)),
                        timeout=20, what="the primary's measured input")
        assert on["publishing"] is True and on["on_air"] is True
        assert before - 1 <= int(on["publishing_since"]) <= time.time()
        assert (on["input"]["width"], on["input"]["height"], on["input"]["frame_rate"]) == (320, 240, 25)
        assert on["input"]["bits_per_second"] > 10_000
        backup = pipeline(stack, sid, 2)
        assert (backup["publishing"], backup["on_air"], backup["input"]) == (False, False, None)
        # The list shows the same status; the key is nowhere in it.
        listed = next(r for r in requests.get(stack.url("/streams")).json() if r["id"] == sid)
        assert listed["pipelines"][0]["publishing"] is True and listed["pipelines"][0]["input"] is not None
        assert record["rtmp1"].rsplit("/", 1)[1] not in str(listed["pipelines"])

        # A thumbnail of the primary's input: a JPEG of the pattern's size class (320 wide), refreshed while it publishes.
        assert on["thumbnail_url"] == f"{stack.base}/hls/{sid}/thumbnail1.jpg" and backup["thumbnail_url"] is None
        first = eventually(lambda: (lambda r: r if r.status_code == 200 else None)(requests.get(on["thumbnail_url"])),
                           timeout=20, what="the first thumbnail")
        assert first.headers["Content-Type"] == "image/jpeg" and first.content[:3] == b"\xff\xd8\xff" and len(first.content) > 1000
        assert jpeg_size(first.content) == (320, 240)
        eventually(lambda: requests.get(on["thumbnail_url"]).headers.get("Last-Modified") != first.headers["Last-Modified"],
                   timeout=15, interval=0.5, what="a newer thumbnail")
        # The API's thumbnail route sends a client to where the local pipeline publishes the picture.
        moved = requests.get(stack.url(f"/streams/{sid}/thumbnail?pipeline=1"), allow_redirects=False)
        assert moved.status_code == 302 and moved.headers["Location"] == on["thumbnail_url"]
        check(moved)
        assert requests.get(stack.url(f"/streams/{sid}/thumbnail?pipeline=1")).content[:3] == b"\xff\xd8\xff"
        assert check(requests.get(stack.url(f"/streams/{sid}/thumbnail?pipeline=2")))["code"] == "no_thumbnail", "the backup has no encoder"

        publisher.terminate()
        publisher.wait(timeout=10)
        off = eventually(lambda: (lambda p: p if p["publishing"] is False else None)(pipeline(stack, sid, 1)), timeout=20, what="the disconnect")
        assert (off["on_air"], off["input"], off["publishing_since"], off["thumbnail_url"]) == (False, None, None, None)
    finally:
        if publisher and publisher.poll() is None:
            publisher.kill()
        assert stack.stop()[0] == 0


def encoder_states(stack, sid):
    return [p["encoder_state"] for p in requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"]]


def test_medialive_thumbnails_come_through_the_api(tmp_path_factory):
    picture = (REPO / "Tests/AWSEmulator/thumbnail.jpg").read_bytes()
    for stack in emulated_aws_stack(tmp_path_factory):
        record = requests.post(stack.url("/streams"), json={"name": "pictured"}).json()
        sid, channel = record["id"], record["live_channel_id"]
        described = stack.emulator.client("medialive").describe_channel(ChannelId=channel)
        assert described["EncoderSettings"]["ThumbnailConfiguration"] == {"State": "AUTO"}, "the shipped template turns thumbnails on"
        assert all(p["thumbnail_url"] is None for p in record["pipelines"]), "MediaLive publishes no picture anywhere"
        idle = check(requests.get(stack.url(f"/streams/{sid}/thumbnail")))
        assert idle["code"] == "no_thumbnail"

        requests.post(stack.url(f"/streams/{sid}/start"))
        for pipeline in (1, 2):
            shown = eventually(lambda: (lambda r: r if r.status_code == 200 else None)(requests.get(stack.url(f"/streams/{sid}/thumbnail?pipeline={pipeline}"))),
                               timeout=20, what=f"pipeline {pipeline}'s picture")
            check(shown)
            assert shown.headers["Content-Type"] == "image/jpeg" and shown.headers["Cache-Control"] == "no-store"
            assert shown.content == picture and jpeg_size(shown.content) == (64, 36)
        assert "medialive:DescribeThumbnails" in stack.emulator.actions()
        assert check(requests.get(stack.url(f"/streams/{sid}/thumbnail?pipeline=3")))["code"] == "invalid_pipeline"

        requests.post(stack.url(f"/streams/{sid}/stop"))
        assert check(requests.get(stack.url(f"/streams/{sid}/thumbnail")))["code"] == "no_thumbnail", "a stopped stream has none"
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200


def test_medialive_pipelines_follow_the_channel_state_and_show_its_alerts(tmp_path_factory):
    for stack in emulated_aws_stack(tmp_path_factory):
        record = requests.post(stack.url("/streams"), json={"name": "alerted"}).json()
        sid, channel = record["id"], record["live_channel_id"]
        assert encoder_states(stack, sid) == [record["state"]] * 2 and record["state"] in ("CREATING", "IDLE")
        eventually(lambda: encoder_states(stack, sid) == ["IDLE", "IDLE"], what="the created channel IDLE")
        idle = requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"]
        # MediaLive tells no encoder or input figures: null, not a guess.
        assert [(p["pipeline"], p["publishing"], p["on_air"], p["input"], p["alerts"], p["encoder_state"]) for p in idle] == [
            (1, None, None, None, [], "IDLE"), (2, None, None, None, [], "IDLE")]
        started = requests.post(stack.url(f"/streams/{sid}/start")).json()
        assert [p["encoder_state"] for p in started["pipelines"]] == [started["state"]] * 2 and started["state"] in ("STARTING", "RUNNING")
        # The emulator's channel moves on as MediaLive's does; the refresh carries its state to both pipelines.
        eventually(lambda: encoder_states(stack, sid) == ["RUNNING", "RUNNING"], what="RUNNING on both pipelines")
        assert stack.emulator.client("medialive").describe_channel(ChannelId=channel)["State"] == "RUNNING"
        stack.emulator.set_alerts(channel, [
            {"pipelineId": "1", "alertType": "RTMP Has No Audio/Video", "message": "no input on the backup", "state": "SET"},
            {"pipelineId": "0", "alertType": "Old", "message": "cleared already", "state": "CLEARED"}])
        alerted = eventually(lambda: (lambda ps: ps if ps[1]["alerts"] else None)(requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"]),
                             what="the backup pipeline's alert")
        assert alerted[1]["alerts"] == ["RTMP Has No Audio/Video: no input on the backup"] and alerted[0]["alerts"] == []
        stack.emulator.set_alerts(channel, [])
        eventually(lambda: requests.get(stack.url(f"/streams/{sid}")).json()["pipelines"][1]["alerts"] == [], what="the alert cleared")
        assert "medialive:ListAlerts" in stack.emulator.actions()
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200
        eventually(lambda: encoder_states(stack, sid) == ["IDLE", "IDLE"], what="IDLE again after the stop")
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200
