"""The dynamodb storage backend as a drop-in for the old deployment's table."""
import contextlib
from decimal import Decimal

import pytest
import requests

from conftest import start_stack
from aws_emulator_fixture import Emulator
from moto_fixture import TABLE, Moto


@pytest.fixture(scope="module")
def aws_stack(tmp_path_factory):
    moto = Moto()
    moto.create_table()
    env = {k.lower(): v for k, v in moto.env().items()}
    s = start_stack(tmp_path_factory, livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE, **env)
    s.moto = moto
    yield s
    code, _ = s.stop()
    moto.stop()
    assert code == 0


OLD_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def test_an_item_written_by_the_old_code_is_read_and_updated_through_the_api(aws_stack):
    table = aws_stack.moto.client("dynamodb")
    resource_table = __import__("boto3").resource(
        "dynamodb", endpoint_url=aws_stack.moto.endpoint, region_name="us-east-1",
        aws_access_key_id=aws_stack.moto.key, aws_secret_access_key=aws_stack.moto.secret).Table(TABLE)
    # What the old Lambda's put_item(Item=...) left: Python values through boto3 (ints as Decimal).
    resource_table.put_item(Item={
        "id": OLD_ID, "name": "legacy", "description": "from the old API", "segment_length": 300,
        "rtmp1": "rtmp://1.2.3.4:1935/app/key1", "rtmp2": "rtmp://5.6.7.8:1935/app/key2",
        "viewer_endpoint": "https://abc.mediapackage.us-east-1.amazonaws.com/out/v1/x/index.m3u8",
        "viewer_endpoint_cloudfront": "https://d123.cloudfront.net/out/v1/x/index.m3u8",
        "rtmp_ivs": "", "ivs_viewer_endpoint": "", "ecs_asg_count": 0, "last_update": "1732500000",
        "last_started": None, "last_stopped": None, "started": False, "current_session_id": None,
        "archives_path": {"f00dfeedf00dfeedf00dfeedf00dfeed": "s3://bucket/2024/11/25/x-1732500000/"},
        "live_channel_id": "1234567", "live_input_id": "7654321", "package_channel_id": OLD_ID, "package_endpoint_id": OLD_ID,
        "ssm_paths": ["/Medialive_api/u1", "/Medialive_api/u2"], "cloudfront_associated": False,
        "key_rotation_interval": 60, "startover_window_seconds": Decimal(43200), "old_extra": {"nested": [1, "two"]},
    })
    got = requests.get(aws_stack.url(f"/streams/{OLD_ID}"))
    assert got.status_code == 200, got.text
    record = got.json()
    assert record["name"] == "legacy" and record["segment_length"] == 300 and record["startover_window_seconds"] == 43200
    assert record["last_started"] is None and record["ssm_paths"] == ["/Medialive_api/u1", "/Medialive_api/u2"]
    assert record["old_extra"] == {"nested": [1, "two"]}
    assert OLD_ID in [r["id"] for r in requests.get(aws_stack.url("/streams")).json()]

    updated = requests.post(aws_stack.url(f"/streams/{OLD_ID}"), json=dict(record, name="renamed"))
    assert updated.status_code == 200 and updated.json()["name"] == "renamed"

    # The old code reads it back with the same attribute names and types.
    item = table.get_item(TableName=TABLE, Key={"id": {"S": OLD_ID}}, ConsistentRead=True)["Item"]
    types = {name: next(iter(value)) for name, value in item.items()}
    assert item["name"] == {"S": "renamed"}
    for name in ("id", "name", "rtmp1", "viewer_endpoint", "last_update", "live_channel_id"):
        assert types[name] == "S", name
    for name in ("segment_length", "ecs_asg_count", "key_rotation_interval", "startover_window_seconds"):
        assert types[name] == "N", name
    for name in ("started", "cloudfront_associated"):
        assert types[name] == "BOOL", name
    for name in ("last_started", "last_stopped", "current_session_id"):
        assert types[name] == "NULL", name
    assert types["archives_path"] == "M" and types["ssm_paths"] == "L" and types["old_extra"] == "M"
    assert item["livestreamd_version"] == {"N": "1"}, "the old item was adopted on its first write"


def test_another_writer_is_caught_by_the_version_condition(aws_stack):
    created = requests.post(aws_stack.url("/streams"), json={"name": "race"}).json()
    # Another writer (the old code, say) bumps the version between our read and our write.
    table = aws_stack.moto.client("dynamodb")
    table.update_item(TableName=TABLE, Key={"id": {"S": created["id"]}}, UpdateExpression="SET livestreamd_version = :v",
                      ExpressionAttributeValues={":v": {"N": "99"}})
    # The API retries a plain update against the fresh version, so it still succeeds ...
    assert requests.post(aws_stack.url(f"/streams/{created['id']}"), json={"name": "ok"}).status_code == 200
    # ... and the item moved to version 100.
    item = table.get_item(TableName=TABLE, Key={"id": {"S": created["id"]}}, ConsistentRead=True)["Item"]
    assert item["livestreamd_version"] == {"N": "100"}


def test_start_up_says_when_no_credentials_are_found(tmp_path):
    import os
    import subprocess

    from stack import binary
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1", LIVESTREAM_STORAGE_BACKEND="dynamodb",
               LIVESTREAM_STORAGE_DYNAMODB_TABLE=TABLE, LIVESTREAM_ARCHIVE_FILE_DIRECTORY=str(tmp_path / "a"))
    result = subprocess.run([binary(), "check-config"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "storage backend 'dynamodb'" in result.stderr and "no AWS credentials found" in result.stderr
    assert "AWS_ACCESS_KEY_ID" in result.stderr, "the message says how to provide them"


@contextlib.contextmanager
def keyless_stack(tmp_path_factory, home, **credential_env):
    """DynamoDB storage on a fresh emulator, with no keys in the configuration or the environment:
    the credentials come from what `credential_env` sets up. Yields (emulator, stack)."""
    emulator = Emulator()
    try:
        emulator.create_table()
        env = {"livestream_storage_backend": "dynamodb", "livestream_storage_dynamodb_table": TABLE,
               "livestream_aws_endpoint": emulator.endpoint, "livestream_aws_region": "us-east-1",
               "aws_access_key_id": "", "aws_secret_access_key": "", "home": str(home), "aws_ec2_metadata_disabled": "true", **credential_env}
        stack = start_stack(tmp_path_factory, **env)
        try:
            created = requests.post(stack.url("/streams"), json={"name": "keyless"})
            assert created.status_code == 200, created.text
            assert emulator.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": created.json()["id"]}})["Item"]["name"] == {"S": "keyless"}
            yield emulator, stack
        finally:
            assert stack.stop()[0] == 0
    finally:
        emulator.stop()


def test_web_identity_credentials_come_from_sts(tmp_path_factory, tmp_path):
    """EKS IRSA's shape: a token file and a role, no keys; STS (the emulator's, moto's) issues the role's keys."""
    token = tmp_path / "token"
    token.write_text("eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiJwb2QifQ.c2ln\n")
    with keyless_stack(tmp_path_factory, tmp_path, aws_web_identity_token_file=str(token), aws_role_session_name="pod-1",
                       aws_role_arn="arn:aws:iam::123456789012:role/livestreamd-pod") as (emulator, stack):
        log = stack.service_log.read_text()
        assert "credentials_source=web identity" in log and "eyJraWQi" not in log


def test_an_assume_role_profile_gets_the_roles_credentials_from_sts(tmp_path_factory, tmp_path):
    """A profile with role_arn + source_profile: STS AssumeRole (the emulator's, moto's), signed with the
    source profile's keys, issues the keys every later call is signed with."""
    (tmp_path / "credentials").write_text("[base]\naws_access_key_id = AKIDBASEPROFILE\naws_secret_access_key = base-profile-secret\n")
    (tmp_path / "config").write_text("[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/livestreamd\nsource_profile = base\n")
    with keyless_stack(tmp_path_factory, tmp_path, aws_shared_credentials_file=str(tmp_path / "credentials"),
                       aws_config_file=str(tmp_path / "config"), aws_profile="deploy") as (emulator, stack):
        assert emulator.actions(key="AKIDBASEPROFILE") == {"sts:AssumeRole"}, "the source keys only assume the role"
        assert "dynamodb:PutItem" in emulator.actions()
        log = stack.service_log.read_text()
        assert "credentials_source=shared credentials file" in log and "base-profile-secret" not in log
