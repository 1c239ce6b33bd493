"""The README's install and "Behind your own nginx" steps, as an admin runs them on a Debian server.

Debian's own nginx.conf and sites-available/default (copied from /etc/nginx, as the nginx
package installs them) get the README's edits: `worker_processes 1` and the three includes.
Only what would collide with this machine's own nginx moves into a temporary folder (pid, logs,
ports, the site folder). livestreamd is installed with `scripts/install.sh` (the user and group
come from its sysusers.d file), runs as its own user with the units' umask, and nginx's workers
run as www-data. The state folders are made as the units' StateDirectory= makes them. Then the
walkthrough: create, start, publish a test pattern, live HLS, stop, split, the clips play, delete,
and `livestreamd doctor` finds nothing wrong.
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from stack import REPO, free_port
from support.system_user import installed_user
from support.waiting import eventually

pytestmark = pytest.mark.install


def sh(*args, **kwargs):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=kwargs.pop("timeout", 1800), **kwargs)


@pytest.mark.skipif(os.geteuid() != 0, reason="installs a system user and runs services as other users (CI runs as root)")
def test_the_readme_steps_on_debians_stock_nginx():
    root = Path(tempfile.mkdtemp(prefix="debian-site-", dir="/tmp"))
    root.chmod(0o755)
    processes = []
    try:
        with installed_user(), stopped_at_the_end(processes):
            # make install, as root on this host (the prefix keeps the machine's /usr clean).
            sh(str(REPO / "scripts/install.sh"), cwd=REPO, env=dict(os.environ, PREFIX=str(root / "usr"), SYSCONFDIR=str(root / "etc")))
            binary = root / "usr/bin/livestreamd"
            assert "livestreamd" in sh("id", "-nG", "www-data").stdout.split(), "www-data joined the group"

            # What the units' StateDirectory= and the socket unit's folder would be.
            state, run = root / "var/lib/livestreamd", root / "run/livestreamd"
            for folder in (state, state / "streams", state / "hls", state / "archive", run):
                folder.mkdir(parents=True, exist_ok=True)
                shutil.chown(folder, "livestreamd", "livestreamd")
                folder.chmod(0o775)

            # The installed configuration, its paths and ports moved into the temporary folder.
            http, internal, rtmp = free_port(), free_port(), free_port()
            config_path = root / "etc/livestreamd/livestreamd.json"
            config = json.loads(config_path.read_text())
            token = config["server"]["api_tokens"][0]
            config["server"]["socket"] = str(run / "api.sock")
            config["storage"]["file"]["directory"] = str(state / "streams")
            config["archive"]["file"]["directory"] = str(state / "archive")
            config["archive"]["file"]["url"] = f"http://127.0.0.1:{http}/archive"
            local = config["media"]["local"]
            local.update(rtmp_url=f"rtmp://127.0.0.1:{rtmp}", rtmp_listen=f"127.0.0.1:{rtmp}", hls_url=f"http://127.0.0.1:{http}/hls",
                         hls_directory=str(state / "hls"), archiver_log=str(state / "archiver.log"),
                         control_url=f"http://127.0.0.1:{internal}/control", stat_url=f"http://127.0.0.1:{internal}/stat")
            config_path.write_text(json.dumps(config, indent=2))

            # livestreamd nginx-config, as the README says.
            snippets = root / "etc/nginx/livestreamd"
            sh(str(binary), "nginx-config", "--config", str(config_path), "--out", str(snippets))

            # Debian's nginx.conf and default site, with the README's edits.
            conf = (Path("/etc/nginx/nginx.conf")).read_text()
            assert "user www-data;" in conf and "include /etc/nginx/sites-enabled/*;" in conf
            logs = root / "log/nginx"
            logs.mkdir(parents=True)
            conf = conf.replace("worker_processes auto;", "worker_processes 1;")
            conf = conf.replace("pid /run/nginx.pid;", f"pid {root}/nginx.pid;")
            conf = re.sub(r"/var/log/nginx/", f"{logs}/", conf)
            conf = conf.replace("include /etc/nginx/sites-enabled/*;", f"include {snippets}/livestreamd-http.conf;\n\tinclude {root}/etc/nginx/sites-enabled/*;")
            conf = conf.replace("events {", f"include {snippets}/livestreamd-rtmp.conf;\n\nevents {{", 1)
            (root / "etc/nginx/nginx.conf").write_text(conf)
            site = Path("/etc/nginx/sites-available/default").read_text()
            site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{http} default_server;").replace("listen [::]:80 default_server;", "")
            site = site.replace("server_name _;", f"server_name _;\n\tinclude {snippets}/livestreamd-locations.conf;")
            (root / "etc/nginx/sites-enabled").mkdir(parents=True)
            (root / "etc/nginx/sites-enabled/default").write_text(site)

            # livestreamd as its own user with the service's umask; nginx as root with www-data workers.
            service_log = open(root / "livestreamd.log", "wb")
            processes.append(subprocess.Popen(
                ["setpriv", "--reuid=livestreamd", "--regid=livestreamd", "--init-groups", str(binary), "serve", "--config", str(config_path)],
                stdout=service_log, stderr=service_log, env={"PATH": "/usr/bin:/bin"}, preexec_fn=lambda: os.umask(0o002)))
            eventually(lambda: (run / "api.sock").exists(), what="livestreamd's socket")
            nginx_conf = str(root / "etc/nginx/nginx.conf")
            sh("nginx", "-t", "-c", nginx_conf)
            processes.append(subprocess.Popen(["nginx", "-c", nginx_conf, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            api = f"http://127.0.0.1:{http}"
            auth = {"Authorization": f"Bearer {token}"}
            eventually(lambda: requests.get(api + "/healthz", timeout=1).ok if _up(api) else False, what="nginx and livestreamd")

            doctor = subprocess.run([str(binary), "doctor", "--config", str(config_path), "--nginx-user", "www-data", "--nginx-conf", nginx_conf],
                                    capture_output=True, text=True, timeout=60)
            assert doctor.returncode == 0, doctor.stdout

            # The walkthrough.
            assert requests.get(api + "/streams").status_code == 401, "the token is required"
            # The console, installed to /usr/share/livestreamd/console (here under the prefix), as www-data reads it.
            console = requests.get(api + "/console/")
            assert console.status_code == 200 and "livestreamd console" in console.text
            assert "script-src 'self'" in console.headers["Content-Security-Policy"]
            assert requests.get(api + "/console/js/api.js").headers["Content-Type"] == "text/javascript"
            stream = requests.post(api + "/streams", json={"name": "demo", "segment_length": 2}, headers=auth).json()
            sid = stream["id"]
            started = requests.post(api + f"/streams/{sid}/start", headers=auth)
            assert started.status_code == 200, started.text
            encoder = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                                        "-f", "lavfi", "-i", "sine", "-t", "14", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", stream["rtmp1"]])
            processes.append(encoder)
            live = stream["viewer_endpoint"]
            eventually(lambda: requests.get(live).status_code == 200 and ".ts" in requests.get(live).text, timeout=20, what="live HLS")
            encoder.wait(timeout=40)
            stopped = requests.post(api + f"/streams/{sid}/stop", headers=auth).json()
            # nginx-rtmp made the live folder for www-data alone; livestreamd ends its playlist through nginx.
            live_folder = state / "hls" / sid
            assert live_folder.stat().st_uid == pwd_uid("www-data") and live_folder.stat().st_mode & 0o077 == 0o044
            ended = requests.get(live)
            assert ended.status_code == 200 and ended.text.rstrip().endswith("#EXT-X-ENDLIST"), ended.text
            session = stopped["current_session_id"]
            root_url = stopped["archives_path"][session]
            folder = Path(root_url[len("file://"):])
            assert folder.stat().st_uid == pwd_uid("livestreamd"), "livestreamd made the session folder"
            segments = eventually(lambda: sorted(folder.glob("*.ts")), timeout=15, what="archived segments")
            assert all(p.stat().st_uid == pwd_uid("www-data") for p in segments), "nginx's archiver (www-data) wrote them"
            split = requests.post(api + f"/streams/{sid}/split", json={"session_id": session, "timestamp_list": [{"start": 0, "end": 6}],
                                                                      "name_modifier": "clip"}, headers=auth)
            assert split.status_code == 200, split.text
            clip = api + "/archive/" + split.json()["indexes"][0]
            probed = sh("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip, timeout=60)
            assert float(probed.stdout.strip()) >= 4
            assert split.json()["clips"][0]["url"] == clip
            # livestreamd removes what nginx's archiver (www-data) wrote into its session folder.
            removed = requests.delete(api + f"/streams/{sid}/sessions/{session}", headers=auth)
            assert removed.status_code == 200 and removed.json()["files_removed"] >= len(segments) + 2, removed.text
            assert not folder.exists() and requests.get(clip).status_code == 404
            assert requests.delete(api + f"/streams/{sid}", headers=auth).status_code == 200
            assert not live_folder.exists() and requests.get(live).status_code == 404, "delete removed the live folder through nginx"
            log = (root / "livestreamd.log").read_text()
            assert "cannot end the live playlist" not in log and "cannot remove the live folder" not in log, log
            assert token not in log and stream["rtmp1"].rsplit("/", 1)[1] not in log
            internal_token = Path(local["internal_token_file"]).read_text().strip()
            for written in [*logs.iterdir(), root / "livestreamd.log", state / "archiver.log"]:
                assert internal_token not in written.read_text(errors="replace"), written
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def stopped_at_the_end(processes):
    """Stops what the test started (before its user is removed: a user with processes cannot be)."""
    try:
        yield
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _up(api):
    try:
        requests.get(api + "/healthz", timeout=1)
        return True
    except requests.RequestException:
        return False


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid
