import pytest

from stack import Stack


def start_stack(tmp_path_factory, **extra_env):
    return Stack(tmp_path_factory.mktemp("stack"), extra_env={k.upper(): v for k, v in extra_env.items()}).start()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # A low body limit so the service's own 413 is reachable below nginx's 1 MiB.
    s = start_stack(tmp_path_factory, livestream_server_max_body_bytes="65536")
    yield s
    code, _ = s.stop()
    assert code == 0, "livestreamd did not exit 0 on SIGTERM"
