"""`make install` as a package build stages it: a binary that needs no Swift toolchain, units systemd accepts,
a configuration made for this host."""
import json
import re
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stack import REPO
from support.system_user import installed_user

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage")
    subprocess.run(["make", "install", "PREFIX=/usr", f"DESTDIR={root}"], cwd=REPO, check=True, capture_output=True, timeout=1800)
    return root


def test_the_binary_runs_without_the_swift_toolchain(staged):
    binary = staged / "usr/bin/livestreamd"
    libraries = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    toolchain = Path(shutil.which("swift")).resolve().parent.parent
    assert str(toolchain) not in libraries, libraries
    assert "libswift" not in libraries and "libFoundation" not in libraries and "libdispatch" not in libraries, libraries
    # Without the toolchain's libraries reachable at all.
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ""}
    version = subprocess.run([str(binary), "--version"], env=env, capture_output=True, text=True, timeout=10)
    assert version.returncode == 0 and version.stdout.startswith("livestreamd "), version.stderr


def test_units_and_files_are_where_systemd_and_nginx_look(staged):
    for path in ["usr/lib/livestreamd/archiver.sh", "usr/lib/sysusers.d/livestreamd.conf",
                 "usr/share/doc/livestreamd/README.md", "usr/share/doc/livestreamd/docs/API.md", "usr/share/doc/livestreamd/examples/logrotate",
                 "usr/share/man/man1/livestreamd.1", "usr/share/livestreamd/console/index.html", "usr/share/livestreamd/console/js/main.js"]:
        assert (staged / path).is_file(), path
    assert os.access(staged / "usr/lib/livestreamd/archiver.sh", os.X_OK)
    manual = (staged / "usr/share/man/man1/livestreamd.1").read_text()
    usage = subprocess.run([str(staged / "usr/bin/livestreamd"), "--help"], capture_output=True, text=True).stdout
    for command in ("serve", "check-config", "nginx-config", "doctor", "iam-policy", "plugins", "storage copy", "--version"):
        assert command in usage and (command in manual or command.replace("-", "\\-") in manual), command
    service = (staged / "usr/lib/systemd/system/livestreamd.service").read_text()
    socket = (staged / "usr/lib/systemd/system/livestreamd.socket").read_text()
    assert "ExecStart=/usr/bin/livestreamd serve --config /etc/livestreamd/livestreamd.json" in service
    for hardening in ["User=livestreamd", "UMask=0002", "ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=livestreamd", "RuntimeDirectory=livestreamd"]:
        assert hardening in service
    assert "SocketGroup=www-data" in socket and "SocketMode=0660" in socket
    assert "m www-data livestreamd" in (staged / "usr/lib/sysusers.d/livestreamd.conf").read_text()

def test_systemd_accepts_the_units(tmp_path):
    # Installed for real under a temporary prefix, so that ExecStart names an executable systemd can check.
    with installed_user():
        subprocess.run(["scripts/install.sh"], cwd=REPO, check=True, capture_output=True, timeout=1800,
                       env=dict(os.environ, PREFIX=str(tmp_path / "usr"), SYSCONFDIR=str(tmp_path / "etc")))
    units = tmp_path / "usr/lib/systemd/system"
    verified = subprocess.run(["systemd-analyze", "verify", str(units / "livestreamd.socket"), str(units / "livestreamd.service")],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr


def test_the_sample_configuration_is_valid_and_its_secrets_are_this_hosts(staged, tmp_path_factory):
    config = staged / "etc/livestreamd/livestreamd.json"
    token_file = staged / "etc/livestreamd/internal.token"
    assert config.stat().st_mode & 0o777 == 0o640 and token_file.stat().st_mode & 0o777 == 0o640
    document = json.loads(config.read_text())
    token, internal = document["server"]["api_tokens"][0], token_file.read_text().strip()
    assert len(token) == 32 and len(internal) == 32 and token != internal and "@" not in config.read_text()
    assert document["media"]["local"]["internal_token_file"] == "/etc/livestreamd/internal.token"
    # A second install keeps the configuration (and its tokens).
    again = tmp_path_factory.mktemp("again")
    (again / "etc/livestreamd").mkdir(parents=True)
    (again / "etc/livestreamd/livestreamd.json").write_text(config.read_text())
    (again / "etc/livestreamd/internal.token").write_text(token_file.read_text())
    subprocess.run(["make", "install", "PREFIX=/usr", f"DESTDIR={again}"], cwd=REPO, check=True, capture_output=True, timeout=1800)
    assert (again / "etc/livestreamd/livestreamd.json").read_text() == config.read_text()
    assert (again / "etc/livestreamd/internal.token").read_text() == token_file.read_text()
    # The service accepts it as written (directories under /var/lib need not exist to check), with
    # the token file where the staged tree has it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTREAM_")}
    env["LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN_FILE"] = str(token_file)
    checked = subprocess.run([str(staged / "usr/bin/livestreamd"), "check-config", "--config", str(config)], env=env, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "server.api_tokens = <redacted>" in checked.stdout and token not in checked.stdout + checked.stderr


def test_nginx_config_writes_the_three_snippets_from_the_installed_configuration(staged, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTREAM_")}
    env.update(LIVESTREAM_MEDIA_LOCAL_INTERNAL_TOKEN_FILE=str(staged / "etc/livestreamd/internal.token"),
               LIVESTREAM_MEDIA_LOCAL_ARCHIVER=str(staged / "usr/lib/livestreamd/archiver.sh"))
    out = tmp_path / "snippets"
    written = subprocess.run([str(staged / "usr/bin/livestreamd"), "nginx-config", "--config", str(staged / "etc/livestreamd/livestreamd.json"),
                              "--out", str(out)], env=env, capture_output=True, text=True, timeout=30)
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in out.iterdir()) == ["livestreamd-http.conf", "livestreamd-locations.conf", "livestreamd-rtmp.conf"], "snippets only"
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in out.iterdir())
    http, rtmp, locations = ((out / f"livestreamd-{part}.conf").read_text() for part in ("http", "rtmp", "locations"))
    assert "server unix:/run/livestreamd/api.sock;" in http
    assert "listen 127.0.0.1:1935;" in rtmp and "hls_path /var/lib/livestreamd/hls;" in rtmp
    assert "/var/lib/livestreamd/archiver.log " + str(staged / "etc/livestreamd/internal.token") in rtmp
    assert "alias /var/lib/livestreamd/archive/;" in locations and "client_max_body_size 1048576;" in locations
    # The console installed beside the binary (under DESTDIR here; /usr/share/livestreamd/console on the host).
    assert f"alias {staged}/usr/share/livestreamd/console/;" in locations
    shipped = {p.relative_to(REPO / "console") for p in (REPO / "console").rglob("*") if p.is_file()}
    assert shipped == {p.relative_to(staged / "usr/share/livestreamd/console") for p in (staged / "usr/share/livestreamd/console").rglob("*") if p.is_file()}
    assert not re.findall(r"@[A-Z_]+@", http + rtmp + locations), "every placeholder filled"
    # What nginx-config cannot make snippets from is refused, every problem at once.
    env.update(LIVESTREAM_MEDIA_LOCAL_CONTROL_URL="http://10.0.0.1:8081/control", LIVESTREAM_MEDIA_LOCAL_RTMP_LISTEN="anywhere")
    refused = subprocess.run([str(staged / "usr/bin/livestreamd"), "nginx-config", "--config", str(staged / "etc/livestreamd/livestreamd.json"),
                              "--out", str(tmp_path / "refused")], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "control_url" in refused.stderr and "rtmp_listen" in refused.stderr
    assert not (tmp_path / "refused").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="installs a package on this host (CI runs as root)")
def test_the_debian_package_installs_its_host_files_and_purges_clean(tmp_path):
    built = subprocess.run(["scripts/deb.sh"], cwd=REPO, env=dict(os.environ, OUT=str(tmp_path)), check=True, capture_output=True, text=True, timeout=1800)
    package = Path(built.stdout.strip())
    contents = subprocess.run(["dpkg-deb", "--contents", str(package)], check=True, capture_output=True, text=True).stdout
    assert "./usr/bin/livestreamd" in contents and "./usr/lib/systemd/system/livestreamd.socket" in contents
    assert "./etc/" not in contents, "no configuration or token is shipped: each host makes its own"
    with installed_user():
        try:
            subprocess.run(["dpkg", "-i", str(package)], check=True, capture_output=True, text=True, timeout=300)
            assert subprocess.run(["/usr/bin/livestreamd", "--version"], capture_output=True, text=True).stdout.startswith("livestreamd ")
            config = Path("/etc/livestreamd/livestreamd.json")
            token_file = Path("/etc/livestreamd/internal.token")
            document = json.loads(config.read_text())
            assert len(document["server"]["api_tokens"][0]) == 32 and len(token_file.read_text().strip()) == 32
            import grp
            assert grp.getgrgid(config.stat().st_gid).gr_name == "livestreamd" and config.stat().st_mode & 0o777 == 0o640
            assert grp.getgrgid(token_file.stat().st_gid).gr_name == "livestreamd"
            env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTREAM_")}
            checked = subprocess.run(["/usr/bin/livestreamd", "check-config", "--config", str(config)], env=env, capture_output=True, text=True, timeout=30)
            assert checked.returncode == 0, checked.stderr
            # An upgrade (reinstall) keeps the host's files.
            before = config.read_text()
            subprocess.run(["dpkg", "-i", str(package)], check=True, capture_output=True, timeout=300)
            assert config.read_text() == before
        finally:
            subprocess.run(["dpkg", "--purge", "livestreamd"], capture_output=True, timeout=300)
        assert not Path("/usr/bin/livestreamd").exists() and not Path("/etc/livestreamd").exists()
