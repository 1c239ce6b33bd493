import pytest

from archives import FileArchive, S3Archive
from aws_emulator_fixture import Emulator
from moto_fixture import TABLE, Moto
from stack import Stack


def start_stack(tmp_path_factory, detached_nginx=False, **extra_env):
    return Stack(tmp_path_factory.mktemp("stack"), extra_env={k.upper(): v for k, v in extra_env.items()}).start(detached_nginx=detached_nginx)


def emulated_aws_stack(tmp_path_factory, prepare=None, **extra_env):
    """The stack with the medialive and s3 plugins on a fresh extended AWS emulator (`stack.emulator`).

    `prepare(emulator)` runs before livestreamd starts. Yields the stack, then stops both
    and checks that livestreamd exited 0.
    """
    emulator = Emulator()
    try:
        if prepare:
            prepare(emulator)
        stack = start_stack(tmp_path_factory, **{k.lower(): v for k, v in emulator.env().items()}, **extra_env)
        stack.emulator = emulator
        try:
            yield stack
        finally:
            code, _ = stack.stop()
        assert code == 0, "livestreamd did not exit 0 on SIGTERM"
    finally:
        emulator.stop()


@pytest.fixture(scope="module", params=["file", "dynamodb", "aws"])
def stack(request, tmp_path_factory):
    """The whole stack, once per backend set (see `backend_stack`)."""
    yield from backend_stack(request.param, tmp_path_factory)


def backend_stack(kind, tmp_path_factory):
    """Starts the stack for one backend set; yields it, then stops everything.

    file: file storage, local media, file archive. dynamodb: the same with DynamoDB
    storage (moto_server with signature checking). aws: file storage, the medialive
    media plugin, the s3 archive and the cloudfront CDN against the extended AWS
    emulator.
    """
    moto = emulator = None
    env = {"livestream_server_max_body_bytes": "65536"}  # low, so the service's own 413 is reachable below nginx's 1 MiB
    if kind == "dynamodb":
        moto = Moto()
        moto.create_table()
        env.update({k.lower(): v for k, v in moto.env().items()})
        env.update(livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE)
    if kind == "aws":
        emulator = Emulator()
        env.update({k.lower(): v for k, v in emulator.env().items()})
        emulator.distribution_id = emulator.create_distribution()
        env.update({k.lower(): v for k, v in emulator.cdn_env(emulator.distribution_id).items()})
    s = start_stack(tmp_path_factory, **env)
    s.moto, s.emulator, s.backend = moto, emulator, kind
    s.archive = S3Archive(emulator) if emulator else FileArchive(s)
    yield s
    code, _ = s.stop()
    for server in (moto, emulator):
        if server:
            server.stop()
    assert code == 0, "livestreamd did not exit 0 on SIGTERM"
