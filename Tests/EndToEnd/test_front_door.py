"""The FastCGI front door against its real socket: what no peer can do to the service.

Raw FastCGI (support/fastcgi.py) straight to livestreamd's unix socket, as any process
in nginx's group could; the service's health is checked through real nginx after.
The fuzz run is seeded (FCGI_FUZZ_SEED replays one) and bounded in count and time.
"""
import os
import random
import resource
import socket
import struct
import time

import pytest
import requests

from conftest import start_stack
from support import fastcgi
from support.fastcgi import PARAMS, STDIN, Connection, begin, pair, record, request, stream
from support.waiting import eventually

pytestmark = pytest.mark.frontdoor

READ_TIMEOUT_MS = 2000
WRITE_TIMEOUT_MS = 1500


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory, livestream_server_read_timeout_ms=str(READ_TIMEOUT_MS),
                    livestream_server_write_timeout_ms=str(WRITE_TIMEOUT_MS), livestream_server_max_body_bytes="65536")
    yield s
    assert s.stop()[0] == 0


def process_status(stack):
    rss = int(next(line for line in open(f"/proc/{stack.service.pid}/status") if line.startswith("VmRSS:")).split()[1])
    return rss / 1024, len(os.listdir(f"/proc/{stack.service.pid}/fd"))


def healthy(stack):
    assert stack.service.poll() is None, "livestreamd died"
    started = time.time()
    assert requests.get(stack.url("/healthz"), timeout=5).status_code == 200
    return time.time() - started


@pytest.mark.parametrize("name_length,value_length", [
    (0x3fffffff, 0x3fffffff), (0x40000000, 0x40000000), (0x7ffffffe, 0), (0x7ffffff0, 0x10),
    (0x7fffffff, 0x7fffffff), (0x10000000, 0), (70000, 1), (1, 70000)])
def test_declared_lengths_that_crash_libfcgi_close_the_connection(stack, name_length, value_length):
    lengths = struct.pack(">II", name_length | 0x80000000, value_length | 0x80000000)
    for split in (False, True):  # the lengths whole in one record, or cut across two
        connection = Connection(stack.socket)
        records = ([record(PARAMS, 1, lengths[:3]), record(PARAMS, 1, lengths[3:] + b"x" * 16)] if split
                   else [record(PARAMS, 1, lengths + b"x" * 16)])
        connection.send(begin() + b"".join(records))
        assert connection.closed_within(2), "the connection stays open"
        connection.close()
    healthy(stack)


def test_params_over_64_kib_close_the_connection_and_an_oversized_body_gets_413_on_a_kept_connection(stack):
    connection = Connection(stack.socket)
    big = b"".join(pair(f"HTTP_X_{n}".encode(), b"v" * 1000) for n in range(70))
    connection.send(begin() + stream(PARAMS, 1, fastcgi.params() + big) + stream(STDIN, 1, b""))
    assert connection.response() is None and connection.closed_within(2)
    connection.close()

    connection = Connection(stack.socket)
    body = b"{" + b" " * 100_000 + b"}"
    connection.send(request("POST", "/streams", body))
    status, _, answer = connection.response()
    assert status == 413 and b"payload_too_large" in answer
    connection.send(request("GET", "/healthz"))
    assert connection.response()[0] == 200, "the connection was kept after the 413"
    connection.close()


def test_pipelined_requests_are_answered_in_order(stack):
    connection = Connection(stack.socket)
    connection.send(request("GET", "/healthz", request_id=1) + request("GET", "/nope", request_id=2) + request("GET", "/healthz", request_id=3))
    assert [connection.response()[0] for _ in range(3)] == [200, 404, 200]
    connection.close()


def fuzz_case(rng):
    """One malformed (or occasionally valid) input: random bytes, mutations, random records, truncations."""
    valid = request("POST", "/streams", b'{"name": "fuzz"}', request_id=rng.randint(1, 65535))
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    if kind == 1:
        mutated = bytearray(valid)
        for _ in range(rng.randint(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.getrandbits(8)
        return bytes(mutated)
    if kind == 2:
        return b"".join(record(rng.randint(0, 12), rng.choice([0, 1, 2, 65535]), bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40))),
                               padding=rng.randint(0, 9), version=rng.choice([1, 1, 1, 2]))
                        for _ in range(rng.randint(1, 6)))
    if kind == 3:
        return valid[:rng.randint(0, len(valid))]
    lengths = b"".join(fastcgi.length(rng.choice([0, 1, 127, 128, 65535, 65536, 0x7fffffff, rng.getrandbits(31)]), long=rng.random() < 0.5)
                       for _ in range(2))
    return begin() + record(PARAMS, 1, lengths + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))) + record(PARAMS, 1)


def test_random_records_neither_crash_hang_nor_leak(stack):
    seed = int(os.environ.get("FCGI_FUZZ_SEED", "20261129"))
    rng = random.Random(seed)
    healthy(stack)
    rss_before, fds_before = process_status(stack)
    started = time.time()
    cases = 0
    while cases < 1500 and time.time() - started < 60:
        data = fuzz_case(rng)
        connection = Connection(stack.socket)
        try:
            connection.send(data)
            connection.sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole input was sent
        assert connection.closed_within(3), f"the service neither answered nor closed (FCGI_FUZZ_SEED={seed}, case {cases}: {data!r})"
        connection.close()
        cases += 1
    assert cases >= 500, "too few cases in the time budget"
    healthy(stack)
    rss_after, _ = process_status(stack)
    assert rss_after < rss_before + 30, f"RSS grew from {rss_before:.1f} to {rss_after:.1f} MiB"
    eventually(lambda: process_status(stack)[1] <= fds_before + 2, timeout=5, what="the connections' descriptors to close")


def test_silent_and_half_sent_connections_cost_no_worker_and_are_closed_at_the_deadline(stack):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    workers = 16
    _, fds_before = process_status(stack)
    valid = request("POST", "/streams", b'{"name": "half"}')
    silent = [Connection(stack.socket) for _ in range(2 * workers)]
    half = []
    for n in range(500):
        connection = Connection(stack.socket)
        connection.send(valid[:1 + n % (len(valid) - 1)])  # from one byte of the header to all but the last byte
        half.append(connection)
    opened = time.time()
    # Every worker would be taken by now if these held threads; the service must still answer at once.
    for _ in range(20):
        assert healthy(stack) < 1.0, "/healthz waited behind silent connections"
    stray = Connection(stack.socket)
    stray.send(request("GET", "/healthz"))
    assert stray.response()[0] == 200
    stray.close()
    remaining = READ_TIMEOUT_MS / 1000 + 1.5 - (time.time() - opened)
    deadline = time.time() + max(remaining, 0.5)
    for connection in silent + half:
        assert connection.closed_within(max(0.05, deadline - time.time())), "a connection outlived the read deadline"
        connection.close()
    assert time.time() - opened >= READ_TIMEOUT_MS / 1000 - 0.3, "closed before the deadline"
    healthy(stack)
    eventually(lambda: process_status(stack)[1] <= fds_before + 2, timeout=5, what="the descriptors to close")
    log = stack.service_log.read_text()
    assert "reason=read timeout" in log


def test_a_peer_that_stops_reading_is_cut_off_after_the_write_deadline(stack):
    connection = Connection(stack.socket)
    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Far more answer bytes than the socket buffers hold, never read.
    connection.send(b"".join(request("GET", "/openapi.json", request_id=1) for _ in range(300)))
    time.sleep(WRITE_TIMEOUT_MS / 1000 + 0.8)
    healthy(stack)
    received = 0
    connection.sock.settimeout(5)
    while True:
        chunk = connection.sock.recv(1 << 20)
        if not chunk:
            break
        received += len(chunk)
    connection.close()
    assert received < 300 * 20000, "the service did not stop writing"
    assert "reason=write timeout" in stack.service_log.read_text()
