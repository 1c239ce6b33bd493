import pytest

from moto_fixture import TABLE, Moto
from stack import Stack


def start_stack(tmp_path_factory, **extra_env):
    return Stack(tmp_path_factory.mktemp("stack"), extra_env={k.upper(): v for k, v in extra_env.items()}).start()


@pytest.fixture(scope="module", params=["file", "dynamodb"])
def stack(request, tmp_path_factory):
    """The whole stack, once per storage backend (dynamodb: moto_server with signature checking)."""
    moto = None
    env = {"livestream_server_max_body_bytes": "65536"}  # low, so the service's own 413 is reachable below nginx's 1 MiB
    if request.param == "dynamodb":
        moto = Moto()
        moto.create_table()
        env.update({k.lower(): v for k, v in moto.env().items()})
        env.update(livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE)
    s = start_stack(tmp_path_factory, **env)
    s.moto = moto
    yield s
    code, _ = s.stop()
    if moto:
        moto.stop()
    assert code == 0, "livestreamd did not exit 0 on SIGTERM"
