"""The FastCGI server's behaviour through real nginx: concurrency, shutdown, listeners, start-up errors."""
import fcntl
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import requests

from conftest import start_stack
from stack import Stack, binary


def hold_storage_lock(stack):
    """Takes the file store's write lock, so a write request blocks inside the service (a slow request)."""
    stack.storage_dir.mkdir(parents=True, exist_ok=True)
    handle = open(stack.storage_dir / ".lock", "a")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def test_a_slow_request_does_not_block_the_others(tmp_path_factory):
    stack = start_stack(tmp_path_factory, livestream_server_workers="4")
    lock = None
    try:
        existing = requests.post(stack.url("/streams"), json={"name": "fast"}).json()
        lock = hold_storage_lock(stack)
        slow_results = []
        slow = [threading.Thread(target=lambda: slow_results.append(requests.post(stack.url("/streams"), json={"name": "slow"}, timeout=30)))
                for _ in range(3)]
        for thread in slow:
            thread.start()
        time.sleep(0.5)
        started = time.time()
        for _ in range(50):
            assert requests.get(stack.url(f"/streams/{existing['id']}"), timeout=5).status_code == 200
        assert time.time() - started < 5, "reads waited for the blocked writes"
        assert not slow_results, "the writes should still be blocked"
        fcntl.flock(lock, fcntl.LOCK_UN)
        for thread in slow:
            thread.join(timeout=10)
        assert [r.status_code for r in slow_results] == [200, 200, 200]
    finally:
        if lock:
            lock.close()  # the blocked writes finish, so the service can drain
        assert stack.stop()[0] == 0


def test_sigterm_finishes_in_flight_requests_and_exits_0_quickly(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        lock = hold_storage_lock(stack)
        results = []
        inflight = threading.Thread(target=lambda: results.append(requests.post(stack.url("/streams"), json={"name": "inflight"}, timeout=30)))
        inflight.start()
        time.sleep(0.5)
        stack.service.send_signal(15)
        time.sleep(0.3)
        # Shutting down: the socket is gone, new requests fail at once; the in-flight one is still running.
        refused_at = time.time()
        assert requests.get(stack.url("/healthz"), timeout=5).status_code == 502
        assert time.time() - refused_at < 1
        assert not stack.socket.exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        inflight.join(timeout=10)
        assert results and results[0].status_code == 200, "the in-flight request was answered"
        assert stack.service.wait(timeout=5) == 0
    finally:
        stack.stop()


def test_idle_kept_connections_do_not_delay_shutdown(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        session = requests.Session()
        for _ in range(20):
            assert session.get(stack.url("/healthz")).status_code == 200
    finally:
        code, seconds = stack.stop()
    assert code == 0 and seconds < 5


def test_spawn_fcgi_socket_on_fd_0(tmp_path):
    stack = Stack(tmp_path)
    stack.render_nginx()
    stack.env.pop("LIVESTREAM_SERVER_SOCKET")
    process = subprocess.Popen(["spawn-fcgi", "-n", "-s", str(stack.socket), "-M", "0600", "--", binary()],
                               env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert stack.serve_through_nginx(process, "fd0", timeout=5) == 0


def test_without_a_socket_start_up_says_what_to_do(tmp_path):
    env = dict(os.environ, LIVESTREAM_STORAGE_FILE_DIRECTORY=str(tmp_path / "s"), LIVESTREAM_ARCHIVE_FILE_DIRECTORY=str(tmp_path / "a"))
    env.pop("LIVESTREAM_SERVER_SOCKET", None)
    result = subprocess.run([binary()], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert result.returncode == 2 and "fd 0 is not a listening socket" in result.stderr


def run_check(tmp_path, **overrides):
    env = dict(os.environ, LIVESTREAM_STORAGE_FILE_DIRECTORY=str(tmp_path / "s"), LIVESTREAM_ARCHIVE_FILE_DIRECTORY=str(tmp_path / "a"))
    env.update(overrides)
    return subprocess.run([binary(), "check-config"], env=env, capture_output=True, text=True, timeout=20)


def test_unknown_plugins_and_bad_options_stop_start_up(tmp_path):
    unknown = run_check(tmp_path, LIVESTREAM_STORAGE_BACKEND="cassandra")
    assert unknown.returncode == 2 and "storage.backend is 'cassandra'" in unknown.stderr and "available: dynamodb, file" in unknown.stderr
    bad = run_check(tmp_path, LIVESTREAM_SERVER_WORKERS="lots")
    assert bad.returncode == 2 and "server.workers must be an integer" in bad.stderr
    config = tmp_path / "config.json"
    config.write_text('{"storage": {"file": {"dirctory": "x"}}}')
    typo = subprocess.run([binary(), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=20)
    assert typo.returncode == 2 and "'storage.file.dirctory'" in typo.stderr and "storage.file.directory" in typo.stderr
    good = run_check(tmp_path, LIVESTREAM_SERVER_API_TOKENS="s3cret-token")
    assert good.returncode == 0 and "storage.backend = file" in good.stdout
    assert "s3cret-token" not in good.stdout + good.stderr and "server.api_tokens = <redacted>" in good.stdout


def test_api_tokens_through_nginx(tmp_path_factory):
    stack = start_stack(tmp_path_factory, livestream_server_api_tokens="tok-1,tok-2")
    try:
        denied = requests.get(stack.url("/streams"))
        assert denied.status_code == 401 and denied.json()["code"] == "unauthorized"
        assert requests.get(stack.url("/streams"), headers={"Authorization": "Bearer tok-2"}).status_code == 200
        assert requests.get(stack.url("/healthz")).status_code == 200
        assert "tok-" not in stack.service_log.read_text()
    finally:
        assert stack.stop()[0] == 0


def test_a_full_disk_answers_507_and_leaves_no_half_written_state(tmp_path):
    storage = tmp_path / "small-disk"
    storage.mkdir()
    # A real full filesystem: a 256-KiB tmpfs under the stream store (the tests run as root, as CI does).
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(storage)], check=True)
    stack = Stack(tmp_path / "stack", extra_env={"LIVESTREAM_STORAGE_FILE_DIRECTORY": str(storage)})
    try:
        stack.start()
        created, full = [], None
        for n in range(400):
            answer = requests.post(stack.url("/streams"), json={"name": f"fill {n}", "description": "x" * 2000})
            if answer.status_code != 200:
                full = answer
                break
            created.append(answer.json()["id"])
        assert full is not None and created, "the small disk never filled up"
        assert full.status_code == 507, full.text
        assert full.json()["code"] == "insufficient_storage" and "No space left on device" in full.json()["message"]
        # Nothing half-written: every stored stream reads back, the listing is whole, no temporary files remain.
        listed = requests.get(stack.url("/streams")).json()
        assert sorted(r["id"] for r in listed) == sorted(created)
        assert not [p.name for p in storage.iterdir() if p.name.startswith(".tmp-")]
        assert requests.post(stack.url(f"/streams/{created[0]}"), json={"description": "y" * 3000}).status_code == 507
        assert requests.get(stack.url(f"/streams/{created[0]}")).json()["description"] == "x" * 2000
        # Room again: writes work again.
        assert requests.delete(stack.url(f"/streams/{created[1]}")).status_code == 200
        assert requests.post(stack.url(f"/streams/{created[0]}"), json={"name": "fits"}).status_code == 200
    finally:
        stack.stop()
        subprocess.run(["umount", str(storage)], check=True)


def test_the_aws_region_comes_from_the_sdks_sources_and_its_absence_stops_start_up(tmp_path):
    aws = {"LIVESTREAM_STORAGE_BACKEND": "dynamodb", "LIVESTREAM_STORAGE_DYNAMODB_TABLE": "streams", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "example-secret", "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)}
    clean = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "LIVESTREAM_AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE")}

    def check_with(**extra):
        env = dict(clean, LIVESTREAM_STORAGE_FILE_DIRECTORY=str(tmp_path / "s"), LIVESTREAM_ARCHIVE_FILE_DIRECTORY=str(tmp_path / "a"), **aws, **extra)
        return subprocess.run([binary(), "check-config"], env=env, capture_output=True, text=True, timeout=20)
    missing = check_with()
    assert missing.returncode == 2 and "no AWS region" in missing.stderr, missing.stderr
    # check-config names where the region and the credentials came from, never the secret.
    from_env = check_with(AWS_DEFAULT_REGION="eu-west-1")
    assert from_env.returncode == 0
    said = from_env.stdout + from_env.stderr
    assert "region=eu-west-1" in said and "region_source=AWS_DEFAULT_REGION" in said and "credentials_source=environment" in said, said
    assert "example-secret" not in said
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[profile work]\nregion = eu-central-1\n")
    from_profile = check_with(AWS_PROFILE="work")
    assert from_profile.returncode == 0 and "region=eu-central-1" in from_profile.stderr + from_profile.stdout


def test_an_archive_bucket_with_dots_is_refused_at_start_up(tmp_path):
    env = dict(os.environ, LIVESTREAM_STORAGE_FILE_DIRECTORY=str(tmp_path / "s"), LIVESTREAM_MEDIA_BACKEND="medialive",
               LIVESTREAM_ARCHIVE_BACKEND="s3", LIVESTREAM_ARCHIVE_S3_BUCKET="my.archive.bucket", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="example-secret", LIVESTREAM_MEDIA_MEDIALIVE_ROLE_ARN="arn:aws:iam::1:role/r",
               LIVESTREAM_MEDIA_MEDIALIVE_INPUT_SECURITY_GROUP="1")
    result = subprocess.run([binary(), "check-config"], env=env, capture_output=True, text=True, timeout=20)
    assert result.returncode == 2 and "has dots" in result.stderr, result.stderr



def test_check_config_changes_nothing_and_refuses_what_serve_would(tmp_path):
    def check(**settings):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTREAM_")}
        env.update({k.upper(): v for k, v in settings.items()}, HOME=str(tmp_path))
        return subprocess.run([binary(), "check-config"], env=env, capture_output=True, text=True, timeout=30)

    fresh = tmp_path / "not-yet"
    ok = check(livestream_storage_file_directory=str(fresh / "streams"), livestream_archive_file_directory=str(fresh / "archive"),
               livestream_server_socket=str(tmp_path / "api.sock"))
    assert ok.returncode == 0, ok.stderr
    assert "storage.file.directory = " + str(fresh / "streams") in ok.stdout
    assert not fresh.exists() and not (tmp_path / "api.sock").exists(), "check-config created nothing"

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    refused = check(livestream_server_socket=str(not_a_folder / "api.sock"), livestream_server_socket_mode="0999",
                    livestream_archive_file_directory=str(tmp_path / "archive"), livestream_storage_file_directory=str(locked / "streams"))
    assert refused.returncode == 2
    assert "server.socket_mode must be octal" in refused.stderr and f"{not_a_folder} is not a directory" in refused.stderr
    if os.geteuid() != 0:  # root writes anywhere
        assert "storage directory" in check(livestream_storage_file_directory=str(locked / "streams")).stderr

    misspelt = check(livestream_storge_backend="dynamodb", livestream_server_workers="0")
    assert misspelt.returncode == 2
    assert "did you mean LIVESTREAM_STORAGE_BACKEND?" in misspelt.stderr and "server.workers must be an integer" in misspelt.stderr

    version = subprocess.run([binary(), "--version"], capture_output=True, text=True, timeout=10)
    assert version.returncode == 0 and version.stdout.startswith("livestreamd ")


def test_nginx_answers_in_the_apis_shape_while_livestreamd_is_down(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        assert stack.stop_service()[0] == 0
        down = requests.get(stack.url("/streams"))
        assert down.status_code == 502 and down.headers["Content-Type"] == "application/json"
        assert down.json()["code"] == "service_unreachable" and down.headers["Access-Control-Allow-Origin"] == "*"
        stack.start_service()
        stack.wait_ready()
        assert requests.get(stack.url("/streams")).status_code == 200
    finally:
        stack.stop()


def test_every_request_is_logged_with_client_request_id_and_the_reason_of_a_failure(tmp_path_factory):
    import json
    import re
    stack = start_stack(tmp_path_factory, livestream_log_format="json")
    try:
        traced = requests.get(stack.url("/streams/0123456789abcdef0123456789abcdef"), headers={"X-Request-Id": "trace-42.a_b"})
        assert traced.status_code == 404 and traced.headers["X-Request-Id"] == "trace-42.a_b"
        made = requests.get(stack.url("/streams"), headers={"X-Request-Id": "not a token\u0001"})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"]), "an unusable id is replaced"
        assert "X-Request-Id" in made.headers["Access-Control-Expose-Headers"]

        def logged():
            lines = [json.loads(line) for line in stack.service_log.read_text().splitlines() if line.startswith("{")]
            return [line for line in lines if line.get("message") == "request" and line.get("request_id") in ("trace-42.a_b", made.headers["X-Request-Id"])]
        from support.waiting import eventually
        entries = eventually(lambda: len(logged()) == 2 and logged(), what="both requests in the log")
        failed = next(e for e in entries if e["request_id"] == "trace-42.a_b")
        assert failed["status"] == "404" and failed["client"] == "127.0.0.1"
        assert failed["reason"].startswith("stream_not_found: stream 0123456789abcdef0123456789abcdef does not exist")
        ok = next(e for e in entries if e["request_id"] != "trace-42.a_b")
        assert ok["status"] == "200" and "reason" not in ok and ok["level"] == "info" and ok["time"].endswith("Z")
    finally:
        stack.stop()


def test_readyz_checks_each_backend_and_names_what_is_not_ready(tmp_path_factory):
    stack = start_stack(tmp_path_factory)
    try:
        ready = requests.get(stack.url("/readyz"))
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "checks": {"storage": "ok", "archive": "ok", "media": "ok"}}
    finally:
        stack.stop()
    # nginx-rtmp's stat page where nothing answers: the media backend is not ready, the rest is.
    broken = start_stack(tmp_path_factory, livestream_media_local_stat_url="http://127.0.0.1:9/stat")
    try:
        answer = requests.get(broken.url("/readyz"))
        body = answer.json()
        assert answer.status_code == 503 and body["status"] == "not_ready"
        assert body["checks"]["storage"] == "ok" and body["checks"]["archive"] == "ok"
        assert body["checks"]["media"].startswith("media_unreachable") and "token" not in body["checks"]["media"]
        assert requests.get(broken.url("/healthz")).status_code == 200, "alive, though not ready"
    finally:
        broken.stop()


def test_doctor_finds_each_misconfiguration_one_at_a_time(tmp_path_factory):
    """As nginx's workers would meet the deployment (user nobody here), one problem at a time."""
    import tempfile
    workdir = Path(tempfile.mkdtemp(prefix="doctor-", dir="/tmp"))  # pytest's own folders are closed to other users
    workdir.chmod(0o755)
    stack = Stack(workdir, extra_env={"LIVESTREAM_SERVER_SOCKET_MODE": "0666"}).start()
    try:
        for folder in (stack.hls_dir, stack.archive_dir, stack.run_dir / "logs"):
            folder.chmod(0o777)
        (stack.run_dir / "internal.token").chmod(0o644)
        stack.run_dir.chmod(0o755)

        def doctor(conf=None):
            result = subprocess.run([binary(), "doctor", "--nginx-user", "nobody", "--nginx-conf", str(conf or stack.run_dir / "nginx.conf")],
                                    env=stack.env, capture_output=True, text=True, timeout=60)
            return result.returncode, [line for line in result.stdout.splitlines() if line.startswith("FAIL")]

        code, failures = doctor()
        assert code == 0 and failures == [], failures

        stack.socket.chmod(0o600)
        code, failures = doctor()
        assert code == 1 and len(failures) == 1 and failures[0].startswith("FAIL  socket") and "nobody may not write" in failures[0]
        stack.socket.chmod(0o666)

        stack.hls_dir.chmod(0o755)
        code, failures = doctor()
        assert code == 1 and len(failures) == 1 and failures[0].startswith("FAIL  HLS folder"), failures
        stack.hls_dir.chmod(0o777)

        nginx_conf = (stack.run_dir / "nginx.conf").read_text()
        def variant(name, text):
            path = stack.run_dir / name
            path.write_text(text)
            return path
        locations = f"include {stack.run_dir}/livestreamd-locations.conf;"
        assert locations in nginx_conf
        code, failures = doctor(variant("no-locations.conf", nginx_conf.replace(locations, "")))
        assert code == 1 and len(failures) == 1 and "locations snippet" in failures[0], failures

        code, failures = doctor(variant("two-workers.conf", nginx_conf.replace("worker_processes 1;", "worker_processes 2;")))
        assert code == 1 and len(failures) == 1 and "worker_processes is 2" in failures[0], failures

        rtmp = (stack.run_dir / "livestreamd-rtmp.conf").read_text()
        assert "access_log off;" in rtmp
        logging_rtmp = variant("logging-rtmp.conf", rtmp.replace("access_log off;", ""))
        code, failures = doctor(variant("logging.conf", nginx_conf.replace(f"{stack.run_dir}/livestreamd-rtmp.conf", str(logging_rtmp))))
        assert code == 1 and len(failures) == 1 and "stream key" in failures[0], failures
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
