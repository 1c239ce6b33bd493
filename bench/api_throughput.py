"""wrk through one nginx (one worker): livestreamd beside two references serving the same bytes.

Endpoints: GET /streams/{id} (one record) and GET /streams (1,000 records). References,
same run, same nginx: nginx serving the bytes as a static file, and a bare libfcgi
responder (bench/libfcgi_responder.c, built here with gcc: 64 threads in FCGX_Accept_r,
bytes hard-coded, kept connections) - the ceiling of any libfcgi service behind this nginx.

Prints req/s, ratios, p50/p99, CPU microseconds per request (from /proc) of livestreamd
and of the responder, system calls per request of livestreamd (strace -c over a
fixed run; skipped without strace) and livestreamd's RSS after at least 500,000 requests.
Last, the cost of metrics: GET /streams/{id} with `metrics.enabled` on and off (alternating
livestreamd processes under the same nginx, median of 3 each). BENCH_METRICS_ONLY=1 skips
from the RSS run to that comparison.
Bounded: each wrk run lasts SECONDS (default 10) at CONNECTIONS (default 64).

    bench/api_throughput.py [SECONDS] [CONNECTIONS]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "EndToEnd"))
from stack import Stack  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 64
STREAMS = 1000
RSS_AFTER = 500_000
TICK = os.sysconf("SC_CLK_TCK")


def wrk(url, seconds=SECONDS):
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": percentiles["50"], "p99": percentiles["99"],
        "errors": (int(errors.group(1)) if errors else 0) + (sum(map(int, failed.groups())) if failed else 0),
    }


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measured(pid, url):
    before = cpu_seconds(pid)
    result = wrk(url)
    result["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(1, result["requests"])
    return result


def syscalls_per_request(pid, url, seconds=3):
    """strace -c on every thread of `pid` during one wrk run; calls per request by name."""
    if not shutil.which("strace"):
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        tracer = subprocess.Popen(["strace", "-c", "-f", "-q", "-p", str(pid), "-o", out.name],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        result = wrk(url, seconds)
        tracer.terminate()
        tracer.wait(timeout=30)
        counts = {}
        for line in out.read().splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[-1].isidentifier() and parts[-1] != "total" and parts[3].isdigit():
                counts[parts[-1]] = int(parts[3])
    return {name: count / max(1, result["requests"]) for name, count in counts.items()}


def start_reference(stack, record, listing):
    binary = stack.run_dir / "bench" / "libfcgi_responder"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(REPO / "bench" / "libfcgi_responder.c"), "-lfcgi", "-lpthread"], check=True)
    socket = stack.run_dir / "bench" / "reference.sock"
    process = subprocess.Popen([str(binary), str(socket), str(record), str(listing)])
    deadline = time.time() + 10
    while not socket.exists() and time.time() < deadline:
        time.sleep(0.05)
    return process


def row(name, size, service, static, reference):
    return (f"{name:<20}{size:>9}{service['rate']:>10.0f}{static['rate']:>10.0f}{reference['rate']:>10.0f}"
            f"{service['rate'] / reference['rate']:>8.2f}{service['rate'] / static['rate']:>8.2f}"
            f"{service['p50']:>9}{service['p99']:>9}{reference['p99']:>9}{static['p99']:>9}"
            f"{service['cpu_us']:>8.1f}{reference['cpu_us']:>8.1f}{service['errors']:>6}")


def metrics_cost(stack, path, rounds=3):
    """GET `path` with metrics on and off, alternating livestreamd processes under the same nginx
    (the on/off order swapped each round); prints each side's median rate and the ratio."""
    rates = {"true": [], "false": []}
    for round_number in range(rounds):
        for enabled in (("true", "false") if round_number % 2 == 0 else ("false", "true")):
            stack.stop_service()
            stack.env["LIVESTREAM_METRICS_ENABLED"] = enabled
            stack.start_service()
            stack.wait_ready()
            wrk(stack.url(path), 2)  # warm the caches and the kept connections
            rates[enabled].append(wrk(stack.url(path))["rate"])
    on, off = sorted(rates["true"])[rounds // 2], sorted(rates["false"])[rounds // 2]
    print(f"metrics on/off, GET /streams/{{id}}, median of {rounds} alternating runs: {on:.0f} req/s with metrics, {off:.0f} without "
          f"(reference, same nginx): {on / off:.3f} ({(1 - on / off) * 100:+.1f} % slower)")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(workdir, extra_env={"LIVESTREAM_LOG_LEVEL": os.environ.get("LIVESTREAM_LOG_LEVEL", "warning")}).start()
        reference = None
        try:
            session = requests.Session()
            ids = [session.post(stack.url("/streams"), json={"name": f"bench {n}", "description": "benchmark stream"}).json()["id"]
                   for n in range(STREAMS)]
            one = session.get(stack.url(f"/streams/{ids[0]}")).content
            everything = session.get(stack.url("/streams")).content
            bench = stack.run_dir / "bench"
            (bench / "record.json").write_bytes(one)
            (bench / "list.json").write_bytes(everything)
            reference = start_reference(stack, bench / "record.json", bench / "list.json")
            assert session.get(stack.url("/bench-reference/record")).content == one
            assert session.get(stack.url("/bench-reference/list")).content == everything
            pid = stack.service.pid
            rss_idle = rss_mib(pid)

            print(f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s through one nginx worker; {STREAMS} streams; livestreamd release, "
                  f"{stack.env.get('LIVESTREAM_SERVER_WORKERS', '16')} workers, log level {stack.env['LIVESTREAM_LOG_LEVEL']}; "
                  f"{os.cpu_count()} cores")
            print(f"{'endpoint':<20}{'bytes':>9}{'svc/s':>10}{'static/s':>10}{'libfcgi/s':>10}{'/libfcgi':>8}{'/static':>8}"
                  f"{'p50 svc':>9}{'p99 svc':>9}{'p99 lfc':>9}{'p99 st':>9}{'us/req':>8}{'lfc us':>8}{'errs':>6}")
            served = 0
            for name, path, reference_path, file, size in [
                    ("GET /streams/{id}", f"/streams/{ids[0]}", "/bench-reference/record", "record.json", len(one)),
                    ("GET /streams", "/streams", "/bench-reference/list", "list.json", len(everything))]:
                service = measured(pid, stack.url(path))
                static = wrk(stack.url(f"/bench/{file}"))
                bare = measured(reference.pid, stack.url(reference_path))
                served += service["requests"]
                print(row(name, size, service, static, bare))
            if os.environ.get("BENCH_METRICS_ONLY"):
                metrics_cost(stack, f"/streams/{ids[0]}")
                return
            while served < RSS_AFTER:
                served += wrk(stack.url(f"/streams/{ids[0]}"), 5)["requests"]
            print(f"livestreamd RSS: {rss_idle:.1f} MiB idle after setup, {rss_mib(pid):.1f} MiB after {served:,} requests")
            calls = syscalls_per_request(pid, stack.url(f"/streams/{ids[0]}"))
            if calls is None:
                print("system calls per request: strace not installed")
            else:
                shown = sorted(((count, name) for name, count in calls.items() if count >= 0.01), reverse=True)
                print("system calls per GET /streams/{id} (strace -c -f, 3 s): "
                      + ", ".join(f"{name} {count:.2f}" for count, name in shown)
                      + f"; futex {calls.get('futex', 0):.3f}")
            metrics_cost(stack, f"/streams/{ids[0]}")
        finally:
            if reference:
                reference.kill()
                reference.wait()
            stack.stop()


if __name__ == "__main__":
    main()
