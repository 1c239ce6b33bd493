"""`livestreamd storage copy`: file -> dynamodb -> file gives identical records, and copying again changes nothing."""
import json
import os
import subprocess

import requests

from conftest import start_stack
from moto_fixture import TABLE, Moto
from stack import binary


def records(directory):
    """The contract records of a file store directory, by id."""
    result = {}
    for path in directory.glob("*.json"):
        document = json.loads(path.read_text())
        result[document["record"]["id"]] = (document["record"], document.get("media", {}))
    return result


def copy(source, target, env):
    out = subprocess.run([binary(), "storage", "copy", "--from", str(source), "--to", str(target)],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip()


def test_file_to_dynamodb_to_file_round_trip(tmp_path_factory, tmp_path):
    stack = start_stack(tmp_path_factory)
    try:
        for n in range(3):
            created = requests.post(stack.url("/streams"), json={"name": f"copy {n}", "segment_length": 4 + n, "extra": {"n": [n, None, True]}}).json()
        assert requests.post(stack.url(f"/streams/{created['id']}/start")).status_code == 200
        assert requests.post(stack.url(f"/streams/{created['id']}/stop")).status_code == 200
    finally:
        assert stack.stop()[0] == 0
    original = records(stack.storage_dir)
    assert len(original) == 3

    moto = Moto()
    try:
        moto.create_table()
        env = dict(os.environ, **{k: v for k, v in moto.env().items() if k.startswith("AWS_")})
        file_a = tmp_path / "file-a.json"
        file_a.write_text(json.dumps({"storage": {"backend": "file", "file": {"directory": str(stack.storage_dir)}}}))
        dynamo = tmp_path / "dynamodb.json"
        dynamo.write_text(json.dumps({"storage": {"backend": "dynamodb", "dynamodb": {"table": TABLE}},
                                      "aws": {"endpoint": moto.endpoint, "region": "us-east-1"}}))
        file_b = tmp_path / "file-b.json"
        file_b.write_text(json.dumps({"storage": {"backend": "file", "file": {"directory": str(tmp_path / "b")}}}))

        assert copy(file_a, dynamo, env) == "created 3, updated 0, unchanged 0, failed 0"
        assert copy(file_a, dynamo, env) == "created 0, updated 0, unchanged 3, failed 0"
        assert copy(dynamo, file_b, env) == "created 3, updated 0, unchanged 0, failed 0"
        round_trip = records(tmp_path / "b")
        assert round_trip == original

        items = moto.client("dynamodb").scan(TableName=TABLE)["Items"]
        assert sorted(i["id"]["S"] for i in items) == sorted(original)
    finally:
        moto.stop()
