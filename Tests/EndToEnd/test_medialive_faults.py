"""Fault injection: the N-th AWS call fails, for every N along create, start, stop, live and delete.

livestreamd reaches the emulator through `fault_proxy.py`. The `faulty` stack makes one
attempt per call (`aws.max_attempts = 1`) so an injected failure is not retried away; the
`lossy` stack keeps every backend on AWS (DynamoDB storage, MediaLive, S3, CloudFront) with
the default three attempts, so a lost answer meets a retry that must recognise what its
first attempt did. After every operation the test waits for pending cleanups to finish,
then checks that AWS holds exactly the resources the stored records name (nothing
orphaned, nothing missing) and that every record agrees with its channel.
"""
import time

import pytest
import requests

from aws_emulator_fixture import REFRESH_CALLS, Emulator, FaultProxy
from conftest import start_stack
from moto_fixture import TABLE
from support.waiting import eventually

pytestmark = pytest.mark.faults

MODES = ["500", "throttle", "reset"]
# The lossy stack's create time limit: what a create left is removed twice this after it began.
CREATE_TIMEOUT = 3


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    emulator = Emulator()
    proxy = FaultProxy(emulator.endpoint)
    env = {k.lower(): v for k, v in emulator.env(endpoint=proxy.endpoint).items()}
    # One attempt per call; state refreshes only when the service asks for one (after start/stop or new pending work).
    env.update(livestream_aws_max_attempts="1", livestream_media_medialive_refresh_seconds="3600")
    stack = start_stack(tmp_path_factory, **env)
    stack.emulator, stack.proxy = emulator, proxy
    yield stack
    code, _ = stack.stop()
    proxy.stop()
    emulator.stop()
    assert code == 0


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    emulator = Emulator()
    proxy = FaultProxy(emulator.endpoint)
    emulator.create_table()
    distribution = emulator.create_distribution()
    env = {k.lower(): v for k, v in {**emulator.env(endpoint=proxy.endpoint), **emulator.cdn_env(distribution)}.items()}
    env.update(livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE,
               livestream_media_medialive_refresh_seconds="3600", livestream_media_medialive_create_timeout_seconds=str(CREATE_TIMEOUT))
    stack = start_stack(tmp_path_factory, **env)
    stack.emulator, stack.proxy, stack.distribution = emulator, proxy, distribution
    stack.cleanup_table = TABLE + "-livestreamd-cleanups"
    stack.baseline_origins = emulator.stream_origins(distribution)[0]
    # The first event of a process makes the event table (DescribeTable, CreateTable, UpdateTimeToLive) and
    # prunes (a Query): done here, so every create the tests count makes the same calls.
    warm_up = requests.post(stack.url("/streams"), json={"name": "warm-up"})
    assert warm_up.status_code == 200 and requests.delete(stack.url(f"/streams/{warm_up.json()['id']}")).status_code == 200
    yield stack
    code, _ = stack.stop()
    proxy.stop()
    emulator.stop()
    assert code == 0


# Calls the lossy stack's background work makes at its own times: not counted, never failed.
BACKGROUND = REFRESH_CALLS + ("GET /prod/inputs", "dynamodb Scan")


def pending_cleanups(stack):
    if getattr(stack, "cleanup_table", None):
        dynamodb = stack.emulator.client("dynamodb")
        if stack.cleanup_table not in dynamodb.list_tables()["TableNames"]:
            return []
        return dynamodb.scan(TableName=stack.cleanup_table, ConsistentRead=True)["Items"]
    return [p.read_text() for p in (stack.storage_dir / ".cleanups").glob("*.json")]


def settle(stack, timeout=30):
    """Waits until the cleanup journal is empty."""
    eventually(lambda: not pending_cleanups(stack), timeout=timeout, interval=0.2,
               what="pending cleanups to finish: " + str(pending_cleanups(stack)))


def assert_consistent(stack, timeout=30):
    settle(stack, timeout)
    records = requests.get(stack.url("/streams")).json()
    left = stack.emulator.resources()
    named = {
        "channels": {r["live_channel_id"] for r in records},
        "inputs": {r["live_input_id"] for r in records},
        "package_channels": {r["package_channel_id"] for r in records},
        "endpoints": {r["package_endpoint_id"] for r in records},
        "parameters": {p for r in records for p in r["ssm_paths"]},
    }
    assert left == named, "AWS resources and stored records disagree"
    ml, mp = stack.emulator.client("medialive"), stack.emulator.client("mediapackage")
    for record in records:
        state = ml.describe_channel(ChannelId=record["live_channel_id"])["State"]
        assert record["started"] == (state in ("STARTING", "RUNNING")), (record["id"], record["started"], state)
        endpoint = mp.describe_origin_endpoint(Id=record["package_endpoint_id"])
        assert endpoint["StartoverWindowSeconds"] == record["startover_window_seconds"]
    if getattr(stack, "distribution", None):
        origins = stack.emulator.stream_origins(stack.distribution)[0] - stack.baseline_origins
        assert origins == {r["id"] for r in records if r["cloudfront_associated"]}, "CDN origins and stored records disagree"


def calls_of(stack, operation, skip=REFRESH_CALLS, follow_up=True):
    """How many AWS calls an operation makes when nothing fails (with `follow_up`, its background follow-up included)."""
    stack.proxy.fail(at=10**9, mode="500", skip=skip)
    result = operation()
    count = stack.proxy.calls()["count"]
    settle(stack)
    return stack.proxy.calls()["count"] if follow_up else count, result


def create(stack):
    return requests.post(stack.url("/streams"), json={"name": "faulty", "segment_length": 6})


def run_with_fault(stack, at, mode, operation, count=1, skip=REFRESH_CALLS):
    stack.proxy.fail(at=at, mode=mode, count=count, skip=skip)
    response = operation()
    failed = stack.proxy.calls()["failed"]
    stack.proxy.clear()
    return response, failed


def expect_failure_reported(response, failed, mode):
    assert failed, "the fault fired"
    if response.status_code == 200:
        # A reset before any answer may be retried by the HTTP stack itself on a fresh connection.
        assert mode == "reset", response.text
    else:
        assert response.status_code in (502, 503, 504), response.text
        assert response.json()["code"] and "secret" not in response.text


@pytest.mark.parametrize("mode", MODES)
def test_create(faulty, mode):
    total, first = calls_of(faulty, lambda: create(faulty))
    assert first.status_code == 200 and total == 6
    for at in range(1, total + 1):
        response, failed = run_with_fault(faulty, at, mode, lambda: create(faulty))
        expect_failure_reported(response, failed, mode)
        assert_consistent(faulty)


def test_create_whose_undo_fails_too_is_finished_in_the_background(faulty):
    for at in range(2, 7):
        # The failing call and the two after it (the first undo steps) fail: the undo is journaled and retried.
        response, failed = run_with_fault(faulty, at, "500", lambda: create(faulty), count=3)
        assert response.status_code in (502, 503) and len(failed) >= 2
        assert_consistent(faulty)


@pytest.mark.parametrize("mode", MODES)
def test_start_and_stop(faulty, mode):
    stream = create(faulty).json()
    sid = stream["id"]
    window = iter(range(1000, 2000))

    def start():
        return requests.post(faulty.url(f"/streams/{sid}/start"), json={"startover_window_seconds": next(window)})

    def stop():
        return requests.post(faulty.url(f"/streams/{sid}/stop"))

    start_calls, started = calls_of(faulty, start)
    stop_calls, stopped = calls_of(faulty, stop)
    assert started.status_code == 200 and stopped.status_code == 200
    assert start_calls == 4, "UpdateOriginEndpoint, DescribeChannel, UpdateChannel, StartChannel"
    assert stop_calls == 1
    for at in range(1, start_calls + 1):
        response, failed = run_with_fault(faulty, at, mode, start)
        expect_failure_reported(response, failed, mode)
        assert_consistent(faulty)
        if requests.get(faulty.url(f"/streams/{sid}")).json()["started"]:
            assert stop().status_code == 200
    restarted = start()
    assert restarted.status_code == 200, (restarted.text, faulty.proxy.calls())
    for at in range(1, stop_calls + 1):
        response, failed = run_with_fault(faulty, at, mode, stop)
        expect_failure_reported(response, failed, mode)
        assert_consistent(faulty)
    if requests.get(faulty.url(f"/streams/{sid}")).json()["started"]:
        assert stop().status_code == 200
    assert requests.delete(faulty.url(f"/streams/{sid}")).status_code == 200
    assert_consistent(faulty)


@pytest.mark.parametrize("mode", MODES)
def test_delete_of_a_running_stream(faulty, mode):
    def started_stream():
        stream = create(faulty).json()
        assert requests.post(faulty.url(f"/streams/{stream['id']}/start")).status_code == 200
        return stream["id"]

    sid = started_stream()
    total, deleted = calls_of(faulty, lambda: requests.delete(faulty.url(f"/streams/{sid}")))
    assert deleted.status_code == 200 and total >= 8
    for at in range(1, total + 1):
        sid = started_stream()
        faulty.proxy.fail(at=at, mode=mode)
        response = requests.delete(faulty.url(f"/streams/{sid}"))
        # Late calls belong to the background part of the teardown: wait for the fault to fire there.
        deadline = time.time() + 15
        while not faulty.proxy.calls()["failed"]:
            assert time.time() < deadline, "the fault fired"
            time.sleep(0.1)
        # The teardown is journaled before it starts: the delete is committed even when a step fails.
        assert response.status_code == 200 and response.json()["id"] == sid
        assert requests.get(faulty.url(f"/streams/{sid}")).status_code == 404
        assert_consistent(faulty)


def test_a_pending_delete_resumes_after_a_restart(faulty):
    stream = create(faulty).json()
    sid = stream["id"]
    ml = faulty.emulator.client("medialive")
    # Every DeleteInput fails: the teardown stops at the input, whose channel is gone.
    faulty.proxy.fail(at=1, mode="500", count=0, skip=[*REFRESH_CALLS, "DELETE /prod/channels/" + stream["live_channel_id"],
                                                       "GET /prod/channels/" + stream["live_channel_id"],
                                                       "DELETE /origin_endpoints/" + stream["package_endpoint_id"],
                                                       "DELETE /channels/" + sid, "ssm DeleteParameters"])
    assert requests.delete(faulty.url(f"/streams/{sid}")).status_code == 200
    deadline = time.time() + 10
    while ml.describe_channel(ChannelId=stream["live_channel_id"])["State"] != "DELETED":
        assert time.time() < deadline
        time.sleep(0.2)
    assert list((faulty.storage_dir / ".cleanups").glob("*.json")), "the input's deletion is pending"
    assert ml.describe_input(InputId=stream["live_input_id"])["State"] != "DELETED"

    code, _ = faulty.stop_service()
    assert code == 0
    faulty.proxy.clear()
    faulty.start_service()
    faulty.wait_ready()
    settle(faulty)
    assert ml.describe_input(InputId=stream["live_input_id"])["State"] == "DELETED"
    assert_consistent(faulty)


# ---------------------------------------------------------------- lost answers and sustained outages (lossy stack)

def lifecycle_operations(stack):
    """(name, run, undo) for each operation of a stream's life, on one stream; `undo` puts it back."""
    sid = create(stack).json()["id"]
    window = iter(range(1000, 100000))

    def start():
        return requests.post(stack.url(f"/streams/{sid}/start"), json={"startover_window_seconds": next(window)})

    def stop():
        return requests.post(stack.url(f"/streams/{sid}/stop"))

    def live():
        return requests.post(stack.url(f"/streams/{sid}/live"))

    def unlive():
        return requests.delete(stack.url(f"/streams/{sid}/live"))

    def ensure(started=None, associated=None):
        record = requests.get(stack.url(f"/streams/{sid}")).json()
        if started is not None and record["started"] != started:
            assert (start() if started else stop()).status_code == 200
        if associated is not None and record["cloudfront_associated"] != associated:
            assert (live() if associated else unlive()).status_code == 200

    return sid, [
        ("start", start, lambda: ensure(started=False)),
        ("live", live, lambda: ensure(associated=False)),
        ("stop", stop, lambda: ensure(started=True)),
    ], ensure


def running_associated_stream(stack):
    sid = create(stack).json()["id"]
    assert requests.post(stack.url(f"/streams/{sid}/start")).status_code == 200
    assert requests.post(stack.url(f"/streams/{sid}/live")).status_code == 200
    return sid


def deletes_with_faults(stack, mode, count=1):
    """Deletes a running, associated stream with the fault at each call of the delete in turn, its
    background teardown included; yields each answer, then deletes again if it failed and checks
    that AWS agrees with the records."""
    sid = running_associated_stream(stack)
    stack.proxy.fail(at=10**9, mode="500", skip=BACKGROUND)
    assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200
    foreground = stack.proxy.calls()["count"]
    settle(stack)
    total = stack.proxy.calls()["count"]
    fired = 0
    for at in range(1, total + 1):
        sid = running_associated_stream(stack)
        stack.proxy.fail(at=at, mode=mode, count=count, skip=BACKGROUND)
        response = requests.delete(stack.url(f"/streams/{sid}"))
        # How many calls a delete makes varies by a few (when the teardown's rounds meet the channel's
        # transitions), so a late fault may find no call to fail: most must.
        try:
            eventually(lambda: stack.proxy.calls()["failed"], timeout=5, what="the fault to fire")
            fired += 1
        except AssertionError:
            pass
        stack.proxy.clear()
        yield response
        if response.status_code != 200:
            # Retried by the client; the first may have removed the record with its answer lost.
            assert requests.delete(stack.url(f"/streams/{sid}")).status_code in (200, 404)
        assert requests.get(stack.url(f"/streams/{sid}")).status_code == 404
        assert_consistent(stack)
    assert fired >= max(foreground, total - 3), f"faults fired at {fired} of {total} calls"


def test_a_lost_answer_at_any_call_is_not_a_failure(lossy):
    """AWS acted, the answer was lost: the retry recognises or adopts what the first attempt did."""
    total, first = calls_of(lossy, lambda: create(lossy), skip=BACKGROUND)
    assert first.status_code == 200, first.text
    for at in range(1, total + 1):
        response, failed = run_with_fault(lossy, at, "lost", lambda: create(lossy), skip=BACKGROUND)
        assert failed and response.status_code == 200, (failed, response.text)
        assert_consistent(lossy)

    sid, operations, ensure = lifecycle_operations(lossy)
    ensure(started=False)
    for name, operation, undo in operations:
        total, done = calls_of(lossy, operation, skip=BACKGROUND, follow_up=False)
        assert done.status_code == 200, (name, done.text)
        for at in range(1, total + 1):
            undo()
            response, failed = run_with_fault(lossy, at, "lost", operation, skip=BACKGROUND)
            # A background state write (after start and stop) may take a counted place: the last call then goes unfaulted.
            assert (failed or at == total) and response.status_code == 200, (name, failed, response.text)
            assert_consistent(lossy)

    for response in deletes_with_faults(lossy, "lost"):
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("mode", ["lost", "reset"])
def test_a_sustained_outage_at_any_call_leaves_nothing_behind(lossy, mode):
    """Four consecutive calls fail (more than a call's three attempts): the operation fails or
    completes, and AWS ends up holding exactly what the records name."""
    total, _ = calls_of(lossy, lambda: create(lossy), skip=BACKGROUND)
    for at in range(1, total + 1):
        response, failed = run_with_fault(lossy, at, mode, lambda: create(lossy), count=4, skip=BACKGROUND)
        assert failed and response.status_code in (200, 502, 503, 504), response.text
        assert_consistent(lossy, timeout=4 * CREATE_TIMEOUT + 30)

    sid, operations, ensure = lifecycle_operations(lossy)
    for name, operation, undo in operations:
        undo()
        total, _ = calls_of(lossy, operation, skip=BACKGROUND, follow_up=False)
        for at in range(1, total + 1):
            undo()
            response, failed = run_with_fault(lossy, at, mode, operation, count=4, skip=BACKGROUND)
            assert (failed or at == total) and response.status_code in (200, 502, 503, 504), (name, response.text)
            assert_consistent(lossy)

    for response in deletes_with_faults(lossy, mode, count=4):
        assert response.status_code in (200, 502, 503, 504), response.text


@pytest.mark.parametrize("call", ["mediapackage POST /channels", "ssm PutParameter", "medialive POST /prod/inputs",
                                  "medialive POST /prod/channels", "the record's PutItem"])
def test_a_create_cut_short_by_a_crash_is_removed_after_a_restart(lossy, call):
    """livestreamd dies (SIGKILL) while a call of a create is on its way (it reaches AWS after the
    death): what the create built is named by its write-ahead note and removed once the create's
    time is up, unless its record was stored: then the stream is kept, whole."""
    total, _ = calls_of(lossy, lambda: create(lossy), skip=BACKGROUND)
    calls = lossy.proxy.calls()["calls"]
    # The record's PutItem is the create's last before the event journal's counter (UpdateItem) and put.
    journaled = next((n for n, c in enumerate(calls, 1) if c == "dynamodb UpdateItem"), len(calls) + 1)
    puts = [n for n, c in enumerate(calls, 1) if c == "dynamodb PutItem" and n < journaled]
    at = puts[-1] if call == "the record's PutItem" else calls.index(call) + 1
    before = {r["id"] for r in requests.get(lossy.url("/streams")).json()}
    lossy.proxy.fail(at=at, mode="hold", skip=BACKGROUND)
    try:
        requests.post(lossy.url("/streams"), json={"name": "crash"}, timeout=1.5)
    except requests.RequestException:
        pass
    eventually(lambda: lossy.proxy.calls()["failed"], what="the create to reach the held call")
    lossy.service.kill()
    lossy.service.wait()
    lossy.proxy.clear()
    assert pending_cleanups(lossy), "the create noted what it builds before building it"
    lossy.start_service()
    lossy.wait_ready()
    # The note stays pending until the create's time is up twice over, then is judged.
    assert_consistent(lossy, timeout=4 * CREATE_TIMEOUT + 30)
    after = {r["id"]: r for r in requests.get(lossy.url("/streams")).json()}
    if call == "the record's PutItem":
        [new] = set(after) - before
        assert after[new]["name"] == "crash" and set(after) - {new} == before
    else:
        assert set(after) == before
