"""The `livestreamd` system user and group that `make install` (systemd-sysusers) makes, undone after a test."""
import contextlib
import grp
import pwd
import subprocess


def exists(name="livestreamd"):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@contextlib.contextmanager
def installed_user(nginx_user="www-data"):
    """Yields while the user may be created by the code under test; removes it afterwards if it was not there before."""
    before = exists()
    member_before = before and nginx_user in grp.getgrnam("livestreamd").gr_mem
    try:
        yield
    finally:
        if not before and exists():
            subprocess.run(["userdel", "livestreamd"], capture_output=True)
            subprocess.run(["groupdel", "livestreamd"], capture_output=True)
        elif before and not member_before:
            subprocess.run(["gpasswd", "-d", nginx_user, "livestreamd"], capture_output=True)
