"""wrk through nginx: livestreamd's GET /streams/{id} and GET /streams (1,000 streams)
beside nginx serving the same bytes statically, in the same run.

Prints req/s, the ratio to static, p50/p99 latency and livestreamd's RSS.
Bounded: each wrk run lasts SECONDS (default 10) at CONNECTIONS (default 64).
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd"))
from stack import Stack  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 64
STREAMS = 1000


def wrk(url):
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url],
                         capture_output=True, text=True, timeout=SECONDS + 30).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, percentiles["50"], percentiles["99"], int(errors.group(1)) if errors else 0


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(workdir, extra_env={"LIVESTREAM_LOG_LEVEL": "warning"}).start()
        try:
            session = requests.Session()
            ids = [session.post(stack.url("/streams"), json={"name": f"bench {n}", "description": "benchmark stream"}).json()["id"]
                   for n in range(STREAMS)]
            one = session.get(stack.url(f"/streams/{ids[0]}")).content
            everything = session.get(stack.url("/streams")).content
            static = stack.run_dir / "bench"
            (static / "record.json").write_bytes(one)
            (static / "list.json").write_bytes(everything)
            rss_idle = rss_kib(stack.service.pid)

            print(f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s through nginx; {STREAMS} streams; livestreamd release, "
                  f"{stack.env.get('LIVESTREAM_SERVER_WORKERS', '16')} workers")
            print(f"{'endpoint':<22}{'bytes':>8}{'service req/s':>15}{'static req/s':>14}{'ratio':>7}"
                  f"{'p50 svc':>9}{'p99 svc':>9}{'p50 st':>9}{'p99 st':>9}{'non-2xx':>9}")
            for name, path, file, size in [("GET /streams/{id}", f"/streams/{ids[0]}", "record.json", len(one)),
                                           ("GET /streams", "/streams", "list.json", len(everything))]:
                service = wrk(stack.url(path))
                reference = wrk(stack.url(f"/bench/{file}"))
                print(f"{name:<22}{size:>8}{service[0]:>15.0f}{reference[0]:>14.0f}{service[0] / reference[0]:>7.2f}"
                      f"{service[1]:>9}{service[2]:>9}{reference[1]:>9}{reference[2]:>9}{service[3]:>9}")
            print(f"livestreamd RSS: {rss_idle / 1024:.1f} MiB idle after setup, {rss_kib(stack.service.pid) / 1024:.1f} MiB after load")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
