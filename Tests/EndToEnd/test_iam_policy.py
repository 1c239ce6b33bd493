"""`livestreamd iam-policy` grants every AWS call livestreamd makes, on the resources it makes them on.

A full life (create, start, a thumbnail, live, split, stop, dissociate, delete) runs on every AWS backend
against the emulator, which records each call's operation; every one must be allowed by the
printed policy, and the policy must name the configured table, bucket prefix, distribution,
parameter path and role.
"""
import json
import subprocess

import pytest
import requests

from aws_emulator_fixture import BUCKET, PREFIX, ROLE_ARN, Emulator
from conftest import start_stack
from moto_fixture import TABLE
from stack import binary
from support.waiting import eventually

pytestmark = pytest.mark.iam

ACCOUNT = "123456789012"
# IAM action names that differ from the operation's (S3's listing and reads).
IAM_ACTION = {"s3:ListObjectsV2": "s3:ListBucket", "s3:HeadObject": "s3:GetObject"}
# Permissions a call needs besides its own action: tags given at creation, and a role handed to MediaLive.
IMPLIED = {
    "medialive:CreateChannel": ["medialive:CreateTags", "iam:PassRole"], "medialive:CreateInput": ["medialive:CreateTags"],
    "mediapackage:CreateChannel": ["mediapackage:TagResource"], "mediapackage:CreateOriginEndpoint": ["mediapackage:TagResource"],
}


def test_the_printed_policy_grants_every_call_of_a_streams_life(tmp_path_factory):
    emulator = Emulator()
    stack = None
    try:
        emulator.create_table()
        distribution = emulator.create_distribution()
        env = {k.lower(): v for k, v in {**emulator.env(), **emulator.cdn_env(distribution)}.items()}
        env.update(livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE)
        stack = start_stack(tmp_path_factory, **env)

        sid = requests.post(stack.url("/streams"), json={"name": "policy", "segment_length": 6}).json()["id"]
        started = requests.post(stack.url(f"/streams/{sid}/start"), json={"startover_window_seconds": 600}).json()
        eventually(lambda: requests.get(stack.url(f"/streams/{sid}/thumbnail")).status_code == 200, timeout=20, what="the running channel's picture")
        assert requests.post(stack.url(f"/streams/{sid}/live")).status_code == 200
        session = started["current_session_id"]
        key = started["archives_path"][session][len(f"s3://{BUCKET}/"):]
        emulator.seed([f"{key}_120261125T101010.{n:06d}.ts" for n in range(3)])
        assert requests.post(stack.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": [{"start": 0, "end": 12}]}).status_code == 200
        assert requests.post(stack.url(f"/streams/{sid}/stop")).status_code == 200
        assert requests.delete(stack.url(f"/streams/{sid}/live")).status_code == 200
        assert requests.post(stack.url(f"/streams/{sid}/live")).status_code == 200
        assert requests.delete(stack.url(f"/streams/{sid}")).status_code == 200
        eventually(lambda: not emulator.client("dynamodb").scan(TableName=TABLE + "-livestreamd-cleanups")["Items"], what="the teardown to finish")

        # livestreamd's calls (start-up included), not the test's own set-up.
        seen = emulator.actions(key=env["aws_access_key_id"])
        needed = {IAM_ACTION.get(a, a) for a in seen} | {extra for a in seen for extra in IMPLIED.get(a, [])}
        assert {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DescribeTable", "medialive:ListChannels", "medialive:CreateChannel", "mediapackage:CreateOriginEndpoint", "ssm:PutParameter", "dynamodb:PutItem",
                "s3:ListBucket", "s3:PutObject", "cloudfront:UpdateDistribution", "medialive:DeleteInput", "medialive:DescribeThumbnails"} <= needed, seen

        printed = subprocess.run([binary(), "iam-policy", "--account", ACCOUNT], env=stack.env, capture_output=True, text=True, check=True)
        policies = json.loads(printed.stdout)
        granted = {action for statement in policies["livestreamd"]["Statement"] for action in statement["Action"]}
        assert needed <= granted, f"not granted: {sorted(needed - granted)}"
        assert not {a for a in granted if a.endswith(":*") or a == "*"}, "no wildcard actions"

        resources = {r for statement in policies["livestreamd"]["Statement"] for r in statement.get("Resource", [])}
        region = env["livestream_aws_region"]
        assert f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{TABLE}" in resources
        assert f"arn:aws:s3:::{BUCKET}/{PREFIX}*" in resources
        assert f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution}" in resources
        assert f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/Medialive_api/*" in resources
        assert ROLE_ARN in resources

        role = policies["medialive_role"]
        assert role["trust_policy"]["Statement"][0]["Principal"] == {"Service": ["medialive.amazonaws.com"]}
        role_actions = {action for statement in role["policy"]["Statement"] for action in statement["Action"]}
        assert {"ssm:GetParameters", "s3:PutObject"} <= role_actions
    finally:
        if stack:
            code, _ = stack.stop()
            assert code == 0
        emulator.stop()
