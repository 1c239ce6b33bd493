"""The service's life as an admin meets it: reload, socket ownership, upgrades under load."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from stack import Stack, binary, running
from support.waiting import eventually

pytestmark = pytest.mark.lifecycle


def test_sighup_reopens_the_log_and_rereads_the_configuration(tmp_path):
    log = tmp_path / "service.log"
    config = tmp_path / "livestreamd.json"
    config.write_text(json.dumps({"log": {"file": str(log), "level": "info"}}))
    stack = Stack(tmp_path / "stack", extra_env={"LIVESTREAM_CONFIG": str(config)}).start()
    try:
        assert requests.get(stack.url("/healthz")).status_code == 200
        eventually(lambda: "path=/healthz" in log.read_text(), what="the request line in the log file")
        # logrotate: move the file away, then SIGHUP; the service writes to a new file.
        log.rename(tmp_path / "service.log.1")
        config.write_text(json.dumps({"log": {"file": str(log), "level": "info"}, "server": {"workers": 3}}))
        stack.service.send_signal(signal.SIGHUP)
        eventually(lambda: log.exists() and "server.workers" in log.read_text(), what="the reload line naming the change")
        assert requests.get(stack.url("/streams")).status_code == 200
        eventually(lambda: "path=/streams " in log.read_text(), what="a request line in the new file")
        assert "path=/streams " not in (tmp_path / "service.log.1").read_text()
        # A new level applies at once.
        config.write_text(json.dumps({"log": {"file": str(log), "level": "warning"}}))
        stack.service.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        requests.get(stack.url("/openapi.json"))
        # A configuration that no longer loads is reported; the service goes on.
        config.write_text("{not json")
        stack.service.send_signal(signal.SIGHUP)
        eventually(lambda: "does not load" in log.read_text(), what="the reload error")
        assert requests.get(stack.url("/healthz")).status_code == 200
        assert "openapi.json" not in log.read_text(), "the warning level did not apply"
        assert stack.service.poll() is None
    finally:
        config.write_text("{}")
        assert stack.stop()[0] == 0


def test_a_socket_another_process_serves_is_never_taken_over(tmp_path):
    stack = Stack(tmp_path / "stack").start()
    try:
        inode = os.stat(stack.socket).st_ino
        second = subprocess.run([binary()], env=dict(stack.env, LIVESTREAM_STORAGE_FILE_DIRECTORY=str(tmp_path / "other")),
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 2 and "is in use" in second.stderr
        assert os.stat(stack.socket).st_ino == inode
        assert requests.get(stack.url("/healthz")).status_code == 200
    finally:
        assert stack.stop()[0] == 0


def test_a_stale_socket_is_replaced_and_only_the_services_own_is_removed(tmp_path):
    stack = Stack(tmp_path / "stack")
    stack.run_dir.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(stack.socket))
    stale.close()  # a socket file nobody serves, as after a crash
    stack.start()
    assert requests.get(stack.url("/healthz")).status_code == 200
    # Somebody else's socket now sits at the path: stopping must leave it.
    stack.socket.unlink()
    other = socket.socket(socket.AF_UNIX)
    other.bind(str(stack.socket))
    other.listen(1)
    try:
        assert stack.stop()[0] == 0
        assert stack.socket.exists(), "the service removed a socket it did not create"
    finally:
        other.close()


@pytest.mark.parametrize("configured", ["unset", "elsewhere"])
def test_systemd_socket_activation(tmp_path, configured):
    stack = Stack(tmp_path / "stack")
    stack.render_nginx()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(stack.socket))
    listener.listen(64)
    env = dict(stack.env, LISTEN_FDS="1")
    env.pop("LIVESTREAM_SERVER_SOCKET")
    if configured == "elsewhere":
        env["LIVESTREAM_SERVER_SOCKET"] = str(tmp_path / "elsewhere.sock")
    # As systemd passes it: the socket as fd 3, LISTEN_PID the service's own pid (the shell execs in place).
    log = open(tmp_path / "service.log", "wb")
    service = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0"', binary()], env=env, close_fds=False,
                               preexec_fn=lambda: os.dup2(listener.fileno(), 3), stdout=log, stderr=log)
    try:
        code = stack.serve_through_nginx(service, "activated")
    finally:
        listener.close()
    written = (tmp_path / "service.log").read_text()
    assert code == 0, written
    assert stack.socket.exists(), "systemd's socket is systemd's to remove"
    # A socket unit and a configuration that disagree leave nginx's snippets pointing elsewhere: said at start-up.
    assert (f"systemd passed the socket {stack.socket}, but server.socket is" in written) == (configured == "elsewhere"), written
    assert not (tmp_path / "elsewhere.sock").exists()


def load(stack, url, seconds, results):
    """POSTs (not idempotent: nginx never retries them) in a loop through nginx for `seconds`."""
    session = requests.Session()
    end = time.time() + seconds
    while time.time() < end:
        try:
            results.append(session.post(url, json={"name": "under upgrade"}, timeout=10).status_code)
        except requests.RequestException as error:
            results.append(repr(error))


def test_upgrading_the_binary_under_load_loses_no_request(tmp_path):
    installed = tmp_path / "bin" / "livestreamd"
    installed.parent.mkdir()
    shutil.copy2(binary(), installed)
    # As a systemd unit (Type=notify, NotifyAccess=all) sees it: the service says which process is the main one.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(10)
    stack = Stack(tmp_path / "stack", binary=str(installed),
                  extra_env={"LIVESTREAM_LOG_LEVEL": "notice", "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}).start()
    try:
        assert notify.recv(4096).decode() == f"READY=1\nMAINPID={stack.service.pid}"
        sid = requests.post(stack.url("/streams"), json={"name": "read me"}).json()["id"]
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", "-d10s", stack.url(f"/streams/{sid}")], stdout=subprocess.PIPE, text=True)
        posts = []
        writer = threading.Thread(target=load, args=(stack, stack.url("/streams"), 10, posts))
        writer.start()
        time.sleep(3)
        # Install the new binary the usual way (a new file renamed over the old), then ask for the upgrade.
        shutil.copy2(binary(), str(installed) + ".new")
        os.replace(str(installed) + ".new", installed)
        old_exe = os.stat(f"/proc/{stack.service.pid}/exe").st_ino
        stack.service.send_signal(signal.SIGUSR2)
        assert stack.service.wait(timeout=30) == 0, "the old process did not finish its hand-over"
        successor = stack.successor_pid()
        assert successor and running(successor)
        assert notify.recv(4096).decode() == f"READY=1\nMAINPID={successor}", "systemd would not follow the successor"
        assert os.stat(f"/proc/{successor}/exe").st_ino == os.stat(installed).st_ino != old_exe, "the successor is not the new binary"
        out = wrk.communicate(timeout=30)[0]
        writer.join(timeout=30)
        served = int(re.search(r"(\d+) requests in", out).group(1))
        assert served > 1000
        assert "Socket errors" not in out and "Non-2xx" not in out, out
        assert posts and set(posts) == {200}, f"{len(posts)} POSTs: {sorted(set(map(str, posts)))}"
        assert requests.get(stack.url(f"/streams/{sid}")).status_code == 200
        log = stack.service_log.read_text()
        assert "handing over connections" in log
    finally:
        assert stack.stop_successor(), "the successor did not stop on SIGTERM"
        stack.stop()
    assert notify.recv(4096).decode() == "STOPPING=1"
    notify.close()
    assert not stack.socket.exists(), "the successor did not remove the socket it took over"


def test_a_failed_upgrade_leaves_the_old_process_serving(tmp_path):
    installed = tmp_path / "bin" / "livestreamd"
    installed.parent.mkdir()
    shutil.copy2(binary(), installed)
    stack = Stack(tmp_path / "stack", binary=str(installed)).start()
    try:
        broken = tmp_path / "bin" / "livestreamd.new"
        broken.write_text("#!/bin/sh\necho 'broken build' >&2\nexit 1\n")
        broken.chmod(0o755)
        os.replace(broken, installed)
        stack.service.send_signal(signal.SIGUSR2)
        eventually(lambda: "upgrade failed" in stack.service_log.read_text(), what="the failure to be logged")
        assert stack.service.poll() is None
        for _ in range(20):
            assert requests.get(stack.url("/healthz")).status_code == 200
    finally:
        assert stack.stop()[0] == 0
    assert not stack.socket.exists()
