"""The event journal (issue 14): a stream's whole life, paging, and two service processes on one store."""
import threading

import pytest
import requests

from conftest import start_stack
from moto_fixture import TABLE, Moto
from stack import Stack
from support.waiting import eventually
from test_pipeline import push

pytestmark = pytest.mark.observe


def journal(stack, path, limit=None):
    """Every event at `path`, read page by page with after/limit."""
    events, after = [], 0
    while True:
        params = {"after": after} | ({"limit": limit} if limit else {})
        page = requests.get(stack.url(path), params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        if not body["events"]:
            assert body["next_after"] == after
            return events
        events += body["events"]
        after = body["next_after"]
        assert after == events[-1]["sequence"]


def test_the_journal_of_a_whole_stream_life_is_complete_and_ordered(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    publisher = None
    try:
        sid = requests.post(stack.url("/streams"), json={"name": "journaled", "segment_length": 2}).json()["id"]
        assert requests.post(stack.url(f"/streams/{sid}"), json={"description": "now described"}).status_code == 200
        record = requests.post(stack.url(f"/streams/{sid}/start")).json()
        session = record["current_session_id"]
        publisher = push(record["rtmp1"], 30, size="320x240")
        eventually(lambda: requests.get(record["viewer_endpoint"]).status_code == 200, timeout=20, what="live HLS")
        assert requests.post(stack.url(f"/streams/{sid}/live")).status_code == 200
        assert requests.delete(stack.url(f"/streams/{sid}/live")).status_code == 200
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200
        publisher.wait(timeout=15)
        eventually(lambda: any(stack.archive_dir.rglob("*.ts")), what="an archived segment")
        split = requests.post(stack.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": [{"start": 0, "end": 2}]})
        assert split.status_code == 200, split.text
        before_delete = journal(stack, f"/streams/{sid}/events")
        assert before_delete == journal(stack, f"/streams/{sid}/events", limit=2), "paging reads the same journal"
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200
        assert requests.get(stack.url(f"/streams/{sid}/events")).status_code == 404, "a deleted stream's parts are gone"

        # Its history stays in the feed.
        events = [e for e in journal(stack, "/events", limit=3) if e["stream_id"] == sid]
        assert events[:-1] == before_delete
        types = [e["type"] for e in events]
        assert sorted(types) == sorted([
            "stream.created", "stream.updated", "stream.started", "pipeline.publisher_connected", "cdn.associated", "cdn.dissociated",
            "stream.stopped", "pipeline.publisher_disconnected", "archive.split_done", "stream.deleted"]), types
        sequences = [e["sequence"] for e in events]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        assert len({e["id"] for e in events}) == len(events) and all(e["id"].startswith("evt_") and e["stream_id"] == sid for e in events)
        # Appended in the order things happened; the record versions order the stop and the disconnect it causes.
        assert types[:5] == ["stream.created", "stream.updated", "stream.started", "pipeline.publisher_connected", "cdn.associated"]
        assert types[-2:] == ["archive.split_done", "stream.deleted"]
        by_type = {e["type"]: e for e in events}
        assert by_type["stream.stopped"]["data"]["version"] < by_type["pipeline.publisher_disconnected"]["data"]["version"]
        assert by_type["stream.started"]["data"]["session_id"] == session == by_type["stream.stopped"]["data"]["session_id"]
        assert by_type["stream.updated"]["data"]["fields"] == ["description"]
        assert by_type["archive.split_done"]["data"]["indexes"] == split.json()["indexes"]
        assert by_type["pipeline.publisher_connected"]["data"]["pipeline"] == 1
        assert all(e["at"] >= events[0]["at"] for e in events)
        # No secret in the journal: the stream key is in rtmp1 only.
        assert record["rtmp1"].rsplit("/", 1)[1] not in str(events)
        # Wrong input and unknown ids.
        assert requests.get(stack.url("/events"), params={"after": "-1"}).status_code == 400
        assert requests.get(stack.url("/events"), params={"limit": "0"}).status_code == 400
        assert requests.get(stack.url(f"/streams/{sid}/events"), params={"after": "x"}).status_code == 400
        unknown = requests.get(stack.url("/streams/0123456789abcdef0123456789abcdef/events"))
        assert unknown.status_code == 404 and unknown.json()["code"] == "stream_not_found"
        assert requests.post(stack.url("/events")).status_code == 405
    finally:
        if publisher and publisher.poll() is None:
            publisher.kill()
        assert stack.stop()[0] == 0


@pytest.mark.parametrize("storage", ["file", "dynamodb"])
def test_two_processes_on_one_store_never_hand_out_the_same_number(tmp_path_factory, storage):
    moto = None
    if storage == "dynamodb":
        moto = Moto()
        moto.create_table()
        shared = {**moto.env(), "LIVESTREAM_STORAGE_BACKEND": "dynamodb", "LIVESTREAM_STORAGE_DYNAMODB_TABLE": TABLE}
        first = Stack(tmp_path_factory.mktemp("first"), extra_env=shared).start()
        # The first event makes the event table. Made before the second process starts: moto's CreateTable is
        # not atomic (two at once both succeed, the second replacing the first), DynamoDB's is (ResourceInUse).
        assert requests.post(first.url("/streams"), json={"name": "makes the event table"}).status_code == 200
    else:
        first = start_stack(tmp_path_factory)
        shared = {"LIVESTREAM_STORAGE_FILE_DIRECTORY": str(first.storage_dir)}
    second = Stack(tmp_path_factory.mktemp("second"), extra_env=shared).start()
    try:
        def create(stack, count):
            session = requests.Session()
            for n in range(count):
                assert session.post(stack.url("/streams"), json={"name": f"from {stack.http_port} #{n}"}).status_code == 200

        threads = [threading.Thread(target=create, args=(stack, 15)) for stack in (first, second) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for reader in (first, second):
            # DynamoDB's feed holds back events behind a young gap (a retried counter): wait it out.
            feed = eventually(lambda: (lambda f: f if sum(e["type"] == "stream.created" for e in f) >= 60 else None)(journal(reader, "/events", limit=7)),
                              timeout=15, what="the whole feed")
            created = [e for e in feed if e["type"] == "stream.created" and e["data"]["name"].startswith("from ")]
            assert len(created) == 60
            sequences = [e["sequence"] for e in feed]
            assert len(set(sequences)) == len(sequences) == len(feed) and sequences == sorted(sequences)
    finally:
        assert second.stop()[0] == 0
        assert first.stop()[0] == 0
        if moto:
            moto.stop()
