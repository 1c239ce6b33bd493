"""Benchmark: splitting a 24-hour S3 archive (6-s segments on both pipelines, 28,800 objects).

Runs the whole stack (nginx, livestreamd with media = medialive, archive = s3) against
the extended AWS emulator, with the fault proxy in front of it only to count requests.
For 1, 10 and 100 ranges it prints the split's wall time and S3 requests, beside the
old deployment's algorithm measured in the same run: one full ListObjectsV2 listing
of the session folder per range (boto3 through the same proxy, no playlist writes).
The old algorithm is run for 1 and 10 ranges; for 100 its figures are ten times those
of 10 (moto takes about half a second per page of this folder: 100 full listings
would take a quarter of an hour).

    LIVESTREAMD_BIN=... python3 bench/split_24h.py     (bench/run.sh sets it up)
"""
import os
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from aws_emulator_fixture import BUCKET, REGION, Emulator, FaultProxy  # noqa: E402
from stack import Stack  # noqa: E402

import boto3  # noqa: E402

SEGMENT = 6
PER_PIPELINE = 24 * 3600 // SEGMENT


def ranges(count):
    """`count` ten-minute ranges spread over the day."""
    step = 86400 // count
    return [{"start": n * step, "end": n * step + 600} for n in range(count)]


def s3_requests(proxy):
    return sum(1 for call in proxy.calls()["calls"] if call.startswith("s3 "))


def old_algorithm(proxy, prefix, count):
    """One full listing of the session folder per range, as the old Lambda did."""
    s3 = boto3.client("s3", endpoint_url=proxy.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    started = time.time()
    for _ in range(count):
        token = None
        while True:
            kwargs = {"Bucket": BUCKET, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = s3.list_objects_v2(**kwargs)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated"):
                break
    return time.time() - started


def main():
    emulator = Emulator()
    proxy = FaultProxy(emulator.endpoint)
    env = emulator.env(endpoint=proxy.endpoint)
    stack = Stack(tempfile.mkdtemp(prefix="split-bench-"), extra_env=env).start()
    try:
        record = requests.post(stack.url("/streams"), json={"name": "day", "segment_length": SEGMENT}).json()
        sid = record["id"]
        started = requests.post(stack.url(f"/streams/{sid}/start")).json()
        requests.post(stack.url(f"/streams/{sid}/stop")).raise_for_status()
        session = started["current_session_id"]
        prefix = started["archives_path"][session][len(f"s3://{BUCKET}/"):]
        seeded = time.time()
        emulator.seed([f"{prefix}_{p}-20261125T000000.{n:06d}.ts" for p in (1, 2) for n in range(PER_PIPELINE)])
        print(f"archive: {2 * PER_PIPELINE} objects under {prefix} (seeded in {time.time() - seeded:.1f} s)")
        print(f"{'ranges':>6} | {'livestreamd s':>13} | {'S3 requests':>11} | {'old algorithm s':>15} | {'old S3 requests':>15}")
        for count in (1, 10, 100):
            proxy.fail(at=10**9, mode="500")  # resets the counter; never fires
            t0 = time.time()
            response = requests.post(stack.url(f"/streams/{sid}/split"),
                                     json={"session_id": session, "timestamp_list": ranges(count), "name_modifier": f"bench{count}"}, timeout=600)
            elapsed = time.time() - t0
            response.raise_for_status()
            assert len(response.json()["indexes"]) == count
            ours = s3_requests(proxy)
            proxy.fail(at=10**9, mode="500")
            measured = min(count, 10)
            old_elapsed = old_algorithm(proxy, prefix, measured) * count / measured
            old = s3_requests(proxy) * count // measured
            note = "" if measured == count else f" ({measured} listings measured, x{count // measured})"
            print(f"{count:>6} | {elapsed:>13.2f} | {ours:>11} | {old_elapsed:>15.2f} | {old:>15}{note}")
        print("livestreamd's requests: ListObjectsV2 pages of one listing + one PutObject per playlist.")
    finally:
        stack.stop()
        proxy.stop()
        emulator.stop()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
