"""GET /metrics (issue 14), parsed with prometheus_client's text parser: the counters move as requests,
publishes and AWS calls happen."""
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import emulated_aws_stack, start_stack
from support.waiting import eventually
from test_pipeline import push

pytestmark = pytest.mark.observe


def scrape(stack, headers=None):
    answer = requests.get(stack.url("/metrics"), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def value(families, family, sample_name=None, **labels):
    """The sample of `family` with these labels (0 when there is none yet)."""
    found = [s.value for s in families[family].samples if (sample_name is None or s.name == sample_name) and all(s.labels.get(k) == v for k, v in labels.items())] \
        if family in families else []
    return sum(found)


def test_requests_publishes_and_the_process_are_counted(tmp_path_factory):
    stack = start_stack(tmp_path_factory, livestream_server_api_tokens="metrics-test-token")
    auth = {"Authorization": "Bearer metrics-test-token"}
    publisher = None
    try:
        assert requests.get(stack.url("/metrics")).status_code == 401, "the API token guards the metrics"
        before = scrape(stack, auth)
        sid = requests.post(stack.url("/streams"), json={"name": "counted", "segment_length": 2}, headers=auth).json()["id"]
        for _ in range(3):
            assert requests.get(stack.url(f"/streams/{sid}"), headers=auth).status_code == 200
        assert requests.get(stack.url("/streams/nope-nope/start"), headers=auth).status_code == 405
        record = requests.post(stack.url(f"/streams/{sid}/start"), headers=auth).json()
        publisher = push(record["rtmp1"], 20, size="320x240")
        eventually(lambda: any(p["publishing"] for p in requests.get(stack.url(f"/streams/{sid}"), headers=auth).json()["pipelines"]),
                   timeout=20, what="the publisher")
        # An archived segment (2 s) and a maintenance round (every 30 s; the first after 4 s) count the rest.
        after = eventually(lambda: (lambda f: f if value(f, "livestreamd_archive_segments", "livestreamd_archive_segments_total", outcome="written") >= 1
                                    and value(f, "livestreamd_publishers") >= 1 else None)(scrape(stack, auth)), timeout=40, what="segments and publishers")

        reads = value(after, "livestreamd_requests", "livestreamd_requests_total", route="/streams/{id}", status="200") \
            - value(before, "livestreamd_requests", "livestreamd_requests_total", route="/streams/{id}", status="200")
        assert reads >= 3
        assert value(after, "livestreamd_requests", "livestreamd_requests_total", route="/streams/{id}/start", status="405") == 1
        assert value(after, "livestreamd_request_duration_seconds", "livestreamd_request_duration_seconds_count", route="/streams/{id}") >= 3
        assert value(after, "livestreamd_requests", "livestreamd_requests_total", route="/_internal") >= 1, "nginx-rtmp's hooks"
        assert value(after, "livestreamd_events", "livestreamd_events_total", type="pipeline.publisher_connected") >= 1
        assert value(after, "livestreamd_streams", state="RUNNING") >= 1
        assert value(after, "process_resident_memory_bytes") > 1_000_000 and value(after, "process_open_fds") > 3
        assert value(after, "process_cpu_seconds") > 0
        text = requests.get(stack.url("/metrics"), headers=auth).text
        assert sid not in text and record["rtmp1"].rsplit("/", 1)[1] not in text, "no ids or keys as labels"
    finally:
        if publisher and publisher.poll() is None:
            publisher.kill()
        assert stack.stop()[0] == 0


def test_aws_calls_are_counted_by_service_operation_and_outcome(tmp_path_factory):
    for stack in emulated_aws_stack(tmp_path_factory):
        before = scrape(stack)
        sid = requests.post(stack.url("/streams"), json={"name": "aws counted"}).json()["id"]
        after = scrape(stack)
        created = value(after, "livestreamd_aws_calls", "livestreamd_aws_calls_total", service="medialive", operation="POST /prod/channels", outcome="ok") \
            - value(before, "livestreamd_aws_calls", "livestreamd_aws_calls_total", service="medialive", operation="POST /prod/channels", outcome="ok")
        assert created == 1
        assert value(after, "livestreamd_aws_calls", "livestreamd_aws_calls_total", service="ssm", operation="PutParameter", outcome="ok") >= 1
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200


def test_metrics_can_be_turned_off(tmp_path_factory):
    stack = start_stack(tmp_path_factory, livestream_metrics_enabled="false")
    try:
        off = requests.get(stack.url("/metrics"))
        assert off.status_code == 404 and off.json()["code"] == "metrics_off"
    finally:
        assert stack.stop()[0] == 0
