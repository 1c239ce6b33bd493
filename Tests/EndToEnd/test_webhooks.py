"""Webhooks (issue 14): every journaled event reaches a real local receiver that is down for the first
minute, answers 500 to some deliveries and is too slow for others, while livestreamd restarts twice;
in order per stream, signed as Standard Webhooks, duplicates only with the same id."""
import base64
import hashlib
import hmac
import json
import re
import secrets
import time

import pytest
import requests
import standardwebhooks

from conftest import start_stack
from stack import free_port
from support.waiting import eventually
from support.webhook_receiver import Receiver

pytestmark = pytest.mark.observe

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
DOWN_FOR = 60


def signature_is_valid(headers, body):
    """Standard Webhooks, written out: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> with the secret's bytes after whsec_."""
    key = base64.b64decode(SECRET[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split(" "))


def restart(stack):
    code, _ = stack.stop_service()
    assert code == 0
    stack.start_service()
    stack.wait_ready()


def stream_life(stack, name, delete=True):
    """Create, update, start, stop (and delete): four (five) events of one stream."""
    sid = requests.post(stack.url("/streams"), json={"name": name}).json()["id"]
    for method, path, body in [("POST", "", {"description": "d"}), ("POST", "/start", None), ("POST", "/stop", None)] + (
            [("DELETE", "", None)] if delete else []):
        response = requests.request(method, stack.url(f"/streams/{sid}{path}"), json=body)
        assert response.status_code == 200, response.text
    return sid


def test_every_event_arrives_in_order_signed_through_outage_errors_and_restarts(tmp_path_factory):
    port = free_port()
    token = secrets.token_hex(8)
    receiver = Receiver(port, slow_seconds=3)
    stack = start_stack(tmp_path_factory, livestream_events_webhooks_url=f"http://127.0.0.1:{port}/hooks?token={token}",
                        livestream_events_webhooks_secret=SECRET, livestream_events_webhooks_max_backoff_seconds="4",
                        livestream_events_webhooks_timeout_seconds="2")
    began = time.time()
    try:
        # The receiver is down: events wait, and livestreamd restarts meanwhile.
        stream_life(stack, "first")
        kept = stream_life(stack, "kept", delete=False)
        status = eventually(lambda: (lambda w: w if w["last_error"] else None)(requests.get(stack.url("/webhooks")).json()["webhooks"][0]),
                            what="a failed delivery shown")
        journaled = requests.get(stack.url("/events")).json()["events"]
        assert status["last_error"] == "cannot connect" and status["backlog"] == len(journaled) == 9 and status["attempts"] >= 1
        assert status["url"] == f"http://127.0.0.1:{port}/hooks", "the query (a token) is not shown"
        restart(stack)
        requests.post(stack.url(f"/streams/{kept}/start"))
        time.sleep(max(0, began + DOWN_FOR - time.time()))

        receiver.start()
        eventually(lambda: len(receiver.ids()) >= 3, timeout=30, what="deliveries after the receiver came up")
        restart(stack)  # in the middle of the backlog
        requests.post(stack.url(f"/streams/{kept}/stop"))
        stream_life(stack, "last")

        feed = requests.get(stack.url("/events"), params={"limit": 1000}).json()["events"]
        wanted = {e["id"]: e for e in feed}
        eventually(lambda: set(wanted) <= receiver.ids(), timeout=120, interval=0.5, what="every event at the receiver")
        received = receiver.received()
        assert not [r for r in received if r[0] < began + DOWN_FOR - 1], "nothing got through while the receiver was down"

        first_seen = {}
        for arrived, path, headers, body, _ in received:
            assert path == f"/hooks?token={token}" and headers["content-type"] == "application/json"
            assert signature_is_valid(headers, body), headers
            payload = standardwebhooks.Webhook(SECRET).verify(body, headers)  # a receiver's library agrees
            event_id = headers["webhook-id"]
            assert payload["data"] == wanted[event_id] and payload["type"] == wanted[event_id]["type"]
            if event_id in first_seen:
                assert first_seen[event_id] == body, "a duplicate is the same event, with the same id"
            else:
                first_seen[event_id] = body
        assert set(first_seen) == set(wanted)

        # In order per stream: first arrivals follow the sequence numbers.
        order = {}
        for event_id in dict.fromkeys(r[2]["webhook-id"] for r in received):
            event = wanted[event_id]
            order.setdefault(event["stream_id"], []).append(event["sequence"])
        assert all(sequences == sorted(sequences) for sequences in order.values()), order
        assert len(order) == 3

        # The receiver's misbehaviour really happened, and was survived.
        answered = [r[4] for r in received]
        assert answered.count(500) >= 1 and answered.count("slow") >= 1, answered
        assert len(received) > len(wanted), "the 500s and slow answers were sent again"

        status = eventually(lambda: (lambda w: w if w["backlog"] == 0 else None)(requests.get(stack.url("/webhooks")).json()["webhooks"][0]),
                            what="an empty backlog")
        assert status["delivered_through"] >= max(e["sequence"] for e in feed) and status["attempts"] == 0
        assert status["last_success_at"] >= int((began + DOWN_FOR) * 1000) and status["abandoned"] == 0
        metrics = requests.get(stack.url("/metrics")).text
        failed = re.search(r'livestreamd_webhook_deliveries_total\{outcome="failed"\} (\d+)', metrics)
        assert failed and int(failed.group(1)) >= 1
        log = stack.service_log.read_text()
        assert token not in log and SECRET[len("whsec_"):] not in log
    finally:
        receiver.stop()
        stack.stop()


def test_webhooks_off_and_a_bad_secret_is_refused_at_start(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        off = requests.get(stack.url("/webhooks"))
        assert off.status_code == 404 and off.json()["code"] == "webhooks_off"
        stack.stop_service()
        stack.env.update(LIVESTREAM_EVENTS_WEBHOOKS_URL="http://127.0.0.1:9/x", LIVESTREAM_EVENTS_WEBHOOKS_SECRET="not-a-secret")
        with pytest.raises(RuntimeError, match="events.webhooks.secret must be whsec_"):
            stack.start_service()
        assert "not-a-secret" not in stack.service_log.read_text()
    finally:
        stack.stop()
