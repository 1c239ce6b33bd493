"""Every endpoint of the REST contract through real nginx and libfcgi, checked against openapi.json.

The same suite runs for every storage backend (see `stack` in conftest.py).
"""
import http.client
import json
import re
import shutil
from pathlib import Path

import pytest
import requests

from aws_emulator_fixture import LIVE_DOMAIN
from contract import DOCUMENT, check
from stack import REPO

UNKNOWN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def created(stack):
    response = requests.post(stack.url("/streams"), json={"name": "contract", "description": "d", "segment_length": 6, "team": "blue"})
    return check(response)


def raw(stack, method, target, body=b""):
    """A request with the target sent byte for byte (requests would normalise it)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
    connection.request(method, target, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None, dict(response.getheaders())


def error(response, status, code=None):
    assert response.status_code == status, response.text
    body = check(response)
    if code:
        assert body["code"] == code
    return body


def test_health_readiness_and_document(stack):
    assert check(requests.get(stack.url("/healthz"))) == {"status": "ok"}
    # Each backend set's own checks: folders, the DynamoDB table, the S3 bucket, nginx-rtmp or MediaLive.
    assert check(requests.get(stack.url("/readyz"))) == {"status": "ready", "checks": {"storage": "ok", "archive": "ok", "media": "ok"}}
    served = check(requests.get(stack.url("/openapi.json")))
    assert served == DOCUMENT


def test_create_returns_the_full_record(stack, created):
    assert re.fullmatch(r"[0-9a-f]{32}", created["id"])
    assert created["name"] == "contract" and created["description"] == "d" and created["segment_length"] == 6
    assert created["started"] is False and created["archives_path"] == {} and created["cloudfront_associated"] is False
    assert created["last_started"] is None and created["current_session_id"] is None
    assert created["team"] == "blue"
    assert created["rtmp_ivs"] == "" and created["ecs_asg_count"] == 0
    defaults = check(requests.post(stack.url("/streams"), json={"name": "defaults"}))
    assert defaults["description"] == "" and defaults["segment_length"] == 300
    assert defaults["key_rotation_interval"] == 60 and defaults["startover_window_seconds"] == 43200
    check(requests.delete(stack.url(f"/streams/{defaults['id']}")))


@pytest.mark.parametrize("body, fragment", [
    ({}, "name is required"),
    ({"name": 7}, "name must be a string"),
    ({"name": "x", "segment_length": "3OO"}, "segment_length must be a whole number"),
    ({"name": "x", "segment_length": [300]}, "segment_length must be an integer"),
    ({"name": "x", "segment_length": -4}, "segment_length must be a whole number in"),
    ({"name": "x", "segment_length": 4.5}, "segment_length must be a whole number in"),
    ({"name": "x", "description": ["a"]}, "description must be a string"),
    ([], "must be a JSON object"),
])
def test_create_rejects_bad_input(stack, body, fragment):
    before = len(requests.get(stack.url("/streams")).json())
    assert fragment in error(requests.post(stack.url("/streams"), json=body), 400)["message"]
    assert len(requests.get(stack.url("/streams")).json()) == before, "nothing is written"


def test_create_accepts_what_old_clients_sent(stack):
    """The old deployment ran int() on segment_length and took any name, the empty one too."""
    for given, stored in (("120", 120), (10.0, 10), (" 60", 60)):
        record = check(requests.post(stack.url("/streams"), json={"name": "", "segment_length": given}))
        assert record["segment_length"] == stored and record["name"] == ""
        check(requests.delete(stack.url(f"/streams/{record['id']}")))


def test_create_rejects_broken_json_and_huge_bodies(stack):
    error(requests.post(stack.url("/streams"), data=b'{"name": ', headers={"Content-Type": "application/json"}), 400, "invalid_json")
    error(requests.post(stack.url("/streams"), data=b"", headers={"Content-Type": "application/json"}), 400, "invalid_body")
    # Over the service's own limit (set low for this suite) and over nginx's.
    error(requests.post(stack.url("/streams"), json={"name": "x" * 70000}), 413, "payload_too_large")
    error(requests.post(stack.url("/streams"), data=b"{" + b" " * (2 << 20) + b"}"), 413, "payload_too_large")


def settled(record):
    """The record without `state` (and the pipelines' `encoder_state`, the same for MediaLive), which a background
    refresh may move on (CREATING -> IDLE) at any time."""
    pipelines = [{k: v for k, v in p.items() if k != "encoder_state"} for p in record.get("pipelines") or []]
    return {k: (pipelines if k == "pipelines" else v) for k, v in record.items() if k != "state"}


def test_get_and_list(stack, created):
    assert settled(check(requests.get(stack.url(f"/streams/{created['id']}")))) == settled(created)
    listed = check(requests.get(stack.url("/streams")))
    assert settled(created) in [settled(r) for r in listed]


def test_list_pages(stack):
    ids = {check(requests.post(stack.url("/streams"), json={"name": f"page{i}"}))["id"] for i in range(5)}
    seen, token = [], None
    while True:
        params = {"limit": 2} | ({"next_token": token} if token else {})
        response = requests.get(stack.url("/streams"), params=params)
        page = check(response)
        assert len(page) <= 2
        seen += [r["id"] for r in page]
        token = response.headers.get("X-Next-Token")
        if not token:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen))
    error(requests.get(stack.url("/streams"), params={"limit": 0}), 400)
    error(requests.get(stack.url("/streams"), params={"limit": "ten"}), 400)
    for stream_id in ids:
        check(requests.delete(stack.url(f"/streams/{stream_id}")))


@pytest.mark.parametrize("target, status, code", [
    (f"/streams/{UNKNOWN}", 404, "stream_not_found"),
    # Any id an old item may have is looked up; only what is unsafe as a key or file name is refused.
    ("/streams/NOT-AN-ID", 404, "stream_not_found"),
    ("/streams/.cleanups", 400, "invalid_id"),
    ("/streams/livestreamd_cleanups", 400, "invalid_id"),
    (f"/streams/{'x' * 61}", 400, "invalid_id"),
    ("/streams/a%C2%8Eb", 400, "invalid_id"),
    # nginx resolves dot segments and refuses NUL itself, answering in the API's shape.
    ("/streams/%2e%2e/start", 404, "not_found"),
    ("/streams/abc%00def", 400, "bad_request"),
    ("/streams/abc%2fdef", 400, "invalid_path"),
    ("/streams/abc%ffdef", 400, "invalid_path"),
    ("/streams/abc%0adef", 400, "invalid_path"),
])
def test_bad_ids_and_paths(stack, target, status, code):
    got, body, headers = raw(stack, "GET", target)
    assert got == status and body["code"] == code and body["message"]
    assert headers.get("Access-Control-Allow-Origin") == "*"


def test_update_changes_user_fields_only(stack, created):
    body = dict(created, name="renamed", description="new", started=True, rtmp1="rtmp://evil/x", archives_path={"x": "y"}, team="red", extra2=[1, 2])
    updated = check(requests.post(stack.url(f"/streams/{created['id']}"), json=body))
    assert updated["name"] == "renamed" and updated["description"] == "new" and updated["team"] == "red" and updated["extra2"] == [1, 2]
    assert updated["started"] is False and updated["rtmp1"] == created["rtmp1"] and updated["archives_path"] == {}
    assert int(updated["last_update"]) >= int(created["last_update"])
    partial = check(requests.post(stack.url(f"/streams/{created['id']}"), json={"description": "only this"}))
    assert partial["name"] == "renamed" and partial["description"] == "only this"
    unchanged = check(requests.post(stack.url(f"/streams/{created['id']}")))  # the old Postman collection sends no body
    assert unchanged["name"] == "renamed" and unchanged["description"] == "only this" and unchanged["team"] == "red"
    error(requests.post(stack.url(f"/streams/{UNKNOWN}"), json={"name": "x"}), 404, "stream_not_found")
    error(requests.post(stack.url(f"/streams/{created['id']}"), json={"name": 1}), 400)
    error(requests.post(stack.url(f"/streams/{created['id']}"), data=b"nope"), 400, "invalid_json")


def test_start_stop_cycle(stack, created):
    sid = created["id"]
    before = check(requests.get(stack.url(f"/streams/{sid}")))
    # Stopping a stopped stream records the time again, as the old deployment did.
    again = check(requests.post(stack.url(f"/streams/{sid}/stop")))
    assert again["started"] is False and again["last_stopped"] and again["last_update"] == before["last_update"]
    error(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "../escape"}), 400, "invalid_path")
    error(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "a\u0001b"}), 400)
    error(requests.post(stack.url(f"/streams/{sid}/start"), json={"startover_window_seconds": "one"}), 400)
    assert check(requests.get(stack.url(f"/streams/{sid}")))["started"] is False, "a refused start changes nothing"

    started = check(requests.post(stack.url(f"/streams/{sid}/start"), json={"key_rotation_interval": "30"}))
    session = started["current_session_id"]
    assert started["last_update"] == before["last_update"], "only create and update change last_update"
    assert started["started"] is True and re.fullmatch(r"[0-9a-f]{32}", session) and started["last_started"]
    assert started["key_rotation_interval"] == 30 and started["startover_window_seconds"] == 43200
    assert started["state"] in ("STARTING", "RUNNING")
    root = started["archives_path"][session]
    assert re.fullmatch(rf"{stack.archive.root_pattern}\d{{4}}/\d{{2}}/\d{{2}}/{sid}-{started['last_started']}/", root)
    error(requests.post(stack.url(f"/streams/{sid}/start")), 409, "state_conflict")

    stopped = check(requests.post(stack.url(f"/streams/{sid}/stop")))
    assert stopped["started"] is False and stopped["last_stopped"] and stopped["archives_path"] == started["archives_path"]
    assert stopped["state"] in ("STOPPING", "IDLE")

    custom = check(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "events/contract test.v1/"}))
    assert custom["archives_path"][custom["current_session_id"]].endswith("/events/contract test.v1/"), "any safe folder name, as the old API took"
    check(requests.post(stack.url(f"/streams/{sid}/stop")))
    # Without a trailing slash the last part is a file-name stem, as the old deployment used it.
    stem = check(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "events/noslash"}))
    assert stem["archives_path"][stem["current_session_id"]].endswith("/events/noslash")
    check(requests.post(stack.url(f"/streams/{sid}/stop")))
    error(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "events/100%"}), 400, "invalid_path")
    custom = check(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": "events/contract-test/"}))
    assert custom["archives_path"][custom["current_session_id"]].endswith("/events/contract-test/")
    check(requests.post(stack.url(f"/streams/{sid}/stop")))
    for action in ("start", "stop"):
        error(requests.post(stack.url(f"/streams/{UNKNOWN}/{action}")), 404, "stream_not_found")


def test_live_association(stack, created):
    sid = created["id"]
    on = check(requests.post(stack.url(f"/streams/{sid}/live")))
    assert on["cloudfront_associated"] is True
    if stack.emulator:
        assert on["viewer_endpoint_cloudfront"] == re.sub(r"^https?://[^/]+", f"https://{LIVE_DOMAIN}", on["viewer_endpoint"])
        assert sid in stack.emulator.stream_origins(stack.emulator.distribution_id)[0]
    else:
        assert on["viewer_endpoint_cloudfront"] == on["viewer_endpoint"]
    assert check(requests.post(stack.url(f"/streams/{sid}/live")))["cloudfront_associated"] is True
    assert check(requests.delete(stack.url(f"/streams/{sid}/live")))["cloudfront_associated"] is False
    assert check(requests.delete(stack.url(f"/streams/{sid}/live")))["cloudfront_associated"] is False
    if stack.emulator:
        assert sid not in stack.emulator.stream_origins(stack.emulator.distribution_id)[0]
    error(requests.post(stack.url(f"/streams/{UNKNOWN}/live")), 404)
    error(requests.delete(stack.url(f"/streams/{UNKNOWN}/live")), 404)


def test_split(stack, created):
    sid = created["id"]
    started = check(requests.post(stack.url(f"/streams/{sid}/start")))
    check(requests.post(stack.url(f"/streams/{sid}/stop")))
    session = started["current_session_id"]
    url = stack.url(f"/streams/{sid}/split")
    good = {"session_id": session, "timestamp_list": [{"start": 0, "end": 6}]}
    error(requests.post(url, json=good), 409, "no_segments")

    root = started["archives_path"][session]
    stack.archive.put_segments(root, [(f"_1-20261125T000000.{n:06d}.ts", s, e) for n, s, e in ((1, 0.0, 6.0), (2, 6.0, 12.0), (3, 12.0, 14.5))])

    for bad in [
        {"timestamp_list": [{"start": 0, "end": 1}]},
        {"session_id": session},
        {"session_id": session, "timestamp_list": [{"start": -1, "end": 5}]},
        {"session_id": session, "timestamp_list": [{"start": "a", "end": 5}]},
        {"session_id": session, "timestamp_list": [{"start": 0, "end": 1}] * 1001},
        {"session_id": session, "timestamp_list": [{"start": 0, "end": 1}], "name_modifier": "../x"},
        {"session_id": session, "timestamp_list": [{"start": 0, "end": 1}], "name_modifier": "x" * 51},
        {"session_id": session, "timestamp_list": [{"start": 0, "end": 1}], "name_modifier": "a\nb"},
    ]:
        error(requests.post(url, json=bad), 400)
    assert stack.archive.playlists(root) == [], "a refused split writes nothing"
    error(requests.post(url, json=dict(good, session_id=UNKNOWN)), 404, "session_not_found")
    error(requests.post(stack.url(f"/streams/{UNKNOWN}/split"), json=good), 404, "stream_not_found")

    dotted = check(requests.post(url, json={"session_id": session, "timestamp_list": [{"start": 0, "end": 6}], "name_modifier": "clip.v1 b"}))
    assert Path(dotted["indexes"][0]).name == "index_clip.v1 b_0.m3u8" and stack.archive.read(dotted["indexes"][0]).endswith("#EXT-X-ENDLIST\n")
    result = check(requests.post(url, json={"session_id": session, "timestamp_list": [{"start": 0, "end": 6}, {"start": "5", "end": 13}], "name_modifier": "c1"}))
    assert [Path(k).name for k in result["indexes"]] == ["index_c1_0.m3u8", "index_c1_1.m3u8"]
    assert stack.archive.playlists(root) == ["index_c1_0.m3u8", "index_c1_1.m3u8", "index_clip.v1 b_0.m3u8"]
    second = stack.archive.read(result["indexes"][1])
    assert re.findall(r"^_1-\S+\.ts$", second, re.M) == [f"_1-20261125T000000.{n:06d}.ts" for n in (1, 2, 3)]
    generated = check(requests.post(url, json=good))
    assert re.fullmatch(r".*/index_[0-9a-f]{32}_0\.m3u8", generated["indexes"][0])
    # A root from a path without a trailing slash: segments and playlists named after its stem, beside it.
    stem_session = check(requests.post(stack.url(f"/streams/{sid}/start"), json={"path": f"stems/s{sid[:8]}"}))
    check(requests.post(stack.url(f"/streams/{sid}/stop")))
    stem_root = stem_session["archives_path"][stem_session["current_session_id"]]
    assert stem_root.endswith(f"/stems/s{sid[:8]}")
    stack.archive.put_segments(stem_root, [(f"_1-20261125T000000.{n:06d}.ts", s, e) for n, s, e in ((1, 0.0, 6.0), (2, 6.0, 12.0))])
    stemmed = check(requests.post(url, json={"session_id": stem_session["current_session_id"], "timestamp_list": [{"start": 0, "end": 12}], "name_modifier": "st"}))
    assert stemmed["indexes"][0].endswith(f"stems/s{sid[:8]}index_st_0.m3u8")
    assert re.findall(r"^\S+\.ts$", stack.archive.read(stemmed["indexes"][0]), re.M) == [f"s{sid[:8]}_1-20261125T000000.{n:06d}.ts" for n in (1, 2)]
    # As the old deployment answered: no ranges, no playlists; a range past the end, a playlist without segments.
    assert check(requests.post(url, json={"session_id": session, "timestamp_list": []}))["indexes"] == []
    beyond = check(requests.post(url, json={"session_id": session, "timestamp_list": [{"start": 100, "end": 200}], "name_modifier": "late"}))
    playlist = stack.archive.read(beyond["indexes"][0])
    assert playlist.endswith("#EXT-X-ENDLIST\n") and not re.findall(r"\.ts$", playlist, re.M)


def test_preflight_and_cors(stack, created):
    response = requests.options(stack.url(f"/streams/{created['id']}/split"), headers={"Origin": "https://x", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    got, body, headers = raw(stack, "PUT", "/streams")
    assert got == 405 and body["code"] == "method_not_allowed" and headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Allow"] == "GET, POST, OPTIONS"
    # nginx refuses TRACE and over-long URIs itself; the standalone configuration answers them in the API's shape.
    got, body, headers = raw(stack, "TRACE", "/streams")
    assert got == 405 and body["code"] == "method_not_allowed" and "GET" in headers["Allow"]
    got, body, _ = raw(stack, "GET", "/streams/" + "x" * 10000)
    assert got == 414 and body["code"] == "uri_too_long"


def test_delete_returns_the_record_as_it_was(stack):
    record = check(requests.post(stack.url("/streams"), json={"name": "doomed"}))
    deleted = check(requests.delete(stack.url(f"/streams/{record['id']}")))
    assert settled(deleted) == settled(record)
    error(requests.get(stack.url(f"/streams/{record['id']}")), 404, "stream_not_found")
    error(requests.delete(stack.url(f"/streams/{record['id']}")), 404, "stream_not_found")


def test_a_listing_larger_than_the_record_size_arrives_whole(stack):
    """Bodies over 32 KB leave as 64-KB FastCGI records written by the server itself."""
    text = "x" * 4000
    ids = {check(requests.post(stack.url("/streams"), json={"name": f"big{i}", "description": text}))["id"] for i in range(80)}
    for _ in range(3):  # also over kept connections, one after another
        response = requests.get(stack.url("/streams"))
        listed = check(response)
        assert int(response.headers["Content-Length"]) > 300_000
        assert ids <= {r["id"] for r in listed}
        assert all(r["description"] == text for r in listed if r["id"] in ids)
    assert requests.get(stack.url("/healthz")).status_code == 200
    for stream_id in ids:
        check(requests.delete(stack.url(f"/streams/{stream_id}")))


def test_the_contract_document_and_the_openapi_document_name_the_same_record_fields():
    """docs/API.md is the contract; the served OpenAPI document must describe the same record."""
    text = (REPO / "docs" / "API.md").read_text()
    section = text.split("## The stream record", 1)[1]
    table = next(block for block in section.split("\n\n") if block.startswith("| field"))
    documented = set()
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            documented.update(name.strip() for name in line.split("|")[1].split(","))
    described = set(DOCUMENT["components"]["schemas"]["StreamRecord"]["properties"])
    assert documented == described, (documented - described, described - documented)
