"""Starts and stops the real thing for end-to-end tests: nginx (with nginx-rtmp) and livestreamd.

Every server listens on 127.0.0.1 or a unix socket under a temporary directory, on
ports chosen free at start. `Stack.stop()` stops what `Stack.start()` started.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(pid):
    """True while `pid` exists and is not a zombie (a successor is nobody's child here)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class DetachedProcess:
    """A process that is not our child, with the part of Popen's interface `Stack.stop()` uses."""

    def __init__(self, pid):
        self.pid = pid

    def poll(self):
        return None if running(self.pid) else 0

    def send_signal(self, sig):
        if running(self.pid):
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout=None):
        deadline = time.time() + (timeout if timeout is not None else 3600)
        while running(self.pid):
            if time.time() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.05)
        return 0


def binary():
    path = os.environ.get("LIVESTREAMD_BIN")
    if path:
        return path
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True, capture_output=True, text=True)
    return os.path.join(out.stdout.strip(), "livestreamd")


class Stack:
    def __init__(self, workdir, extra_env=None, workers=None, binary=None):
        self.dir = Path(workdir)
        self.http_port = free_port()
        self.internal_port = free_port()
        self.rtmp_port = free_port()
        self.run_dir = self.dir / "run"
        self.socket = self.run_dir / "livestreamd.sock"
        self.archive_dir = self.dir / "archive"
        self.storage_dir = self.dir / "streams"
        self.hls_dir = self.run_dir / "hls"
        self.service_log = self.dir / "livestreamd.log"
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.internal_token = secrets.token_hex(16)
        self.env = dict(os.environ)
        self.env.update({
            "LIVESTREAM_SERVER_SOCKET": str(self.socket),
            "LIVESTREAM_STORAGE_FILE_DIRECTORY": str(self.storage_dir),
            "LIVESTREAM_ARCHIVE_FILE_DIRECTORY": str(self.archive_dir),
            "LIVESTREAM_ARCHIVE_FILE_URL": f"{self.base}/archive",
            "LIVESTREAM_MEDIA_LOCAL_RTMP_URL": f"rtmp://127.0.0.1:{self.rtmp_port}",
            "LIVESTREAM_MEDIA_LOCAL_HLS_URL": f"{self.base}/hls",
            "LIVESTREAM_MEDIA_LOCAL_CONTROL_URL": f"http://127.0.0.1:{self.internal_port}/control",
            "LIVESTREAM_MEDIA_LOCAL_STAT_URL": f"http://127.0.0.1:{self.internal_port}/stat",
            "LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN": self.internal_token,
            "LIVESTREAM_MEDIA_LOCAL_HLS_DIRECTORY": str(self.hls_dir),
            # As render.sh writes them into nginx's snippets (livestreamd doctor compares).
            "LIVESTREAM_MEDIA_LOCAL_RTMP_LISTEN": f"127.0.0.1:{self.rtmp_port}",
            "LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN_FILE": str(self.run_dir / "internal.token"),
            "LIVESTREAM_MEDIA_LOCAL_ARCHIVER_LOG": str(self.run_dir / "logs" / "archiver.log"),
        })
        if workers:
            self.env["LIVESTREAM_SERVER_WORKERS"] = str(workers)
        self.env.update(extra_env or {})
        # The API under a path prefix (server.api_prefix), as nginx's snippets mount it.
        self.prefix = self.env.get("LIVESTREAM_SERVER_API_PREFIX", "")
        self.binary = binary
        self.service = None
        self.nginx = None

    def render_nginx(self):
        env = dict(os.environ, HTTP_PORT=str(self.http_port), INTERNAL_PORT=str(self.internal_port),
                   RTMP_PORT=str(self.rtmp_port), SOCKET=str(self.socket), ARCHIVE_DIR=str(self.archive_dir),
                   INTERNAL_TOKEN=self.internal_token, API_PREFIX=self.prefix)
        subprocess.run([str(REPO / "nginx" / "render.sh"), str(self.run_dir)], env=env, check=True, capture_output=True)

    def start(self, detached_nginx=False):
        self.render_nginx()
        self.start_service()
        try:
            self.start_nginx(detached=detached_nginx)
            self.wait_ready()
        except BaseException:
            self.stop()  # nothing started here outlives a failed start
            raise
        return self

    def serve_through_nginx(self, service, name, timeout=10):
        """nginx in front of a service the test started itself (spawn-fcgi, socket activation):
        one create through it, then SIGTERM; stops nginx and returns the service's exit code."""
        self.start_nginx()
        try:
            self.wait_ready()
            assert requests.post(self.url("/streams"), json={"name": name}).status_code == 200
        finally:
            service.terminate()
            code = service.wait(timeout=timeout)
            self.stop()
        return code

    def nginx_command(self):
        # The absolute path: a binary upgrade re-executes argv[0].
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.run_dir), "-e", str(self.run_dir / "logs" / "error.log"), "-c", str(self.run_dir / "nginx.conf")]

    def start_nginx(self, detached=False):
        """nginx on the rendered configuration (render_nginx first), in the foreground as a child.

        `detached`: as nobody's child (as under an init system), so a binary upgrade (SIGUSR2)
        works: nginx ignores it while the parent that started it lives.
        """
        if not detached:
            self.nginx = subprocess.Popen(self.nginx_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return
        # The launcher outlives nginx's start-up: nginx takes the parent it sees then for the one that must be
        # gone before it accepts an upgrade (had the launcher already exited, that would be init, for good).
        launched = subprocess.run(["sh", "-c", '"$@" </dev/null >/dev/null 2>&1 & echo $!; sleep 1', "sh", *self.nginx_command()],
                                  check=True, capture_output=True, text=True)
        self.nginx = DetachedProcess(int(launched.stdout.strip()))

    def start_service(self):
        self.log_handle = open(self.service_log, "ab")
        self.service = subprocess.Popen([self.binary or binary()], env=self.env, stdout=self.log_handle, stderr=self.log_handle)
        deadline = time.time() + 20
        while not self.socket.exists():
            if self.service.poll() is not None:
                raise RuntimeError("livestreamd exited at start:\n" + self.service_log.read_text())
            if time.time() > deadline:
                raise RuntimeError("livestreamd did not create its socket")
            time.sleep(0.05)

    def wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(self.base + self.prefix + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("the stack did not become ready")

    def successor_pid(self):
        """The pid of the process an upgrade (SIGUSR2) handed the service to, if any."""
        found = re.findall(r"pid=(\d+) upgrade: the successor serves", self.service_log.read_text())
        return int(found[-1]) if found else None

    def stop_successor(self, timeout=10):
        """SIGTERM the upgraded process (not a child of this one); True if it exited in time."""
        pid = self.successor_pid()
        if pid is None or not running(pid):
            return True
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + timeout
        while running(pid) and time.time() < deadline:
            time.sleep(0.05)
        if running(pid):
            os.kill(pid, signal.SIGKILL)
            return False
        return True

    def stop_service(self, timeout=10):
        """SIGTERM livestreamd (and an upgraded successor); returns (exit code, seconds it took)."""
        if self.service is not None and self.service.poll() is not None:
            self.stop_successor(timeout)
        if self.service is None or self.service.poll() is not None:
            return (self.service.returncode if self.service else None), 0.0
        started = time.time()
        self.service.send_signal(signal.SIGTERM)
        try:
            code = self.service.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.service.kill()
            code = self.service.wait()
        self.log_handle.close()
        return code, time.time() - started

    def stop(self):
        result = self.stop_service()
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        return result

    def url(self, path):
        return self.base + path
