import pytest

from stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack")).start()
    yield s
    code, _ = s.stop()
    assert code == 0, "livestreamd did not exit 0 on SIGTERM"
