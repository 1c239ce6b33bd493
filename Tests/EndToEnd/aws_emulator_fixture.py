"""The extended AWS emulator (Tests/AWSEmulator/aws_emulator.py) and the fault proxy, as test fixtures.

Both listen on 127.0.0.1 at free ports and are stopped by `stop()`.
"""
import os
import signal
import subprocess
import sys
import time

import boto3
import requests

from moto_fixture import TABLE, create_streams_table
from stack import REPO, free_port

REGION = "us-east-1"
BUCKET = "livestreamd-archive"
PREFIX = "archive/"
ROLE_ARN = "arn:aws:iam::123456789012:role/MediaLiveAccess"
SECURITY_GROUP = "1234567"
EMULATOR = REPO / "Tests" / "AWSEmulator"
LIVE_DOMAIN = "live.example.com"
DISTRIBUTION_CONFIG = (REPO / "Tests" / "EndToEnd" / "fixtures" / "distribution-config.xml").read_bytes()


def _start(args, url, what):
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            return process
        except requests.RequestException:
            pass
        if process.poll() is not None or time.time() > deadline:
            _stop(process)
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Emulator:
    """moto + the documented extensions; credentials are not checked here."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = _start([str(EMULATOR / "aws_emulator.py"), "--port", str(self.port)], self.endpoint + "/moto-api/", "the AWS emulator")
        self.client("s3").create_bucket(Bucket=BUCKET)

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")

    def create_table(self, name=TABLE):
        create_streams_table(self.client("dynamodb"), name)

    def resource(self, service):
        return boto3.resource(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")

    def env(self, endpoint=None):
        """livestreamd settings for the medialive + s3 plugins against this emulator (or a proxy in front of it)."""
        return {
            "LIVESTREAM_MEDIA_BACKEND": "medialive", "LIVESTREAM_ARCHIVE_BACKEND": "s3",
            "LIVESTREAM_ARCHIVE_S3_BUCKET": BUCKET, "LIVESTREAM_ARCHIVE_S3_PREFIX": PREFIX,
            "LIVESTREAM_MEDIA_MEDIALIVE_ROLE_ARN": ROLE_ARN, "LIVESTREAM_MEDIA_MEDIALIVE_INPUT_SECURITY_GROUP": SECURITY_GROUP,
            "LIVESTREAM_MEDIA_MEDIALIVE_REFRESH_SECONDS": "1",
            "LIVESTREAM_AWS_ENDPOINT": endpoint or self.endpoint, "LIVESTREAM_AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIDLIVESTREAMDTEST", "AWS_SECRET_ACCESS_KEY": "livestreamd-test-secret",
        }

    def create_distribution(self, config=DISTRIBUTION_CONFIG):
        response = requests.post(self.endpoint + "/_emulator/cloudfront/distributions", data=config, timeout=10)
        response.raise_for_status()
        return response.json()["id"]

    def distribution_config(self, distribution_id):
        """The stored DistributionConfig, byte for byte."""
        response = requests.get(self.endpoint + f"/_emulator/cloudfront/distributions/{distribution_id}", timeout=10)
        response.raise_for_status()
        return response.content

    def stream_origins(self, distribution_id):
        """(origin ids, {path pattern: target origin id}) of the distribution."""
        config = self.client("cloudfront").get_distribution_config(Id=distribution_id)["DistributionConfig"]
        origins = {o["Id"] for o in config["Origins"].get("Items", [])}
        behaviours = {b["PathPattern"]: b["TargetOriginId"] for b in config.get("CacheBehaviors", {}).get("Items", [])}
        return origins, behaviours

    def cdn_env(self, distribution_id):
        return {"LIVESTREAM_CDN_BACKEND": "cloudfront", "LIVESTREAM_CDN_CLOUDFRONT_DISTRIBUTION_ID": distribution_id,
                "LIVESTREAM_CDN_CLOUDFRONT_LIVE_DOMAIN": LIVE_DOMAIN}

    def actions(self, key=None):
        """Every "<service>:<operation>" called so far (the emulator's record), by anyone or with one access key."""
        return set(requests.get(self.endpoint + "/_emulator/actions", params={"key": key} if key else {}, timeout=10).json()["actions"])

    def set_alerts(self, channel_id, alerts):
        """Sets a MediaLive channel's alerts (the emulator's ListAlerts answers them)."""
        requests.post(self.endpoint + "/_emulator/medialive/alerts", json={"channel_id": channel_id, "alerts": alerts}, timeout=10).raise_for_status()

    def seed(self, keys, body=""):
        """Stores many S3 objects in one request (the emulator's test-data route)."""
        for start in range(0, len(keys), 5000):
            response = requests.post(self.endpoint + "/_emulator/s3/objects", json={"bucket": BUCKET, "keys": keys[start:start + 5000], "body": body}, timeout=120)
            response.raise_for_status()

    def resources(self):
        """What exists: MediaLive channels and inputs not DELETED, MediaPackage channels and endpoints, SSM parameters."""
        ml, mp, ssm = self.client("medialive"), self.client("mediapackage"), self.client("ssm")

        def every(client, operation, member):
            return [item for page in client.get_paginator(operation).paginate() for item in page[member]]

        return {
            "channels": {c["Id"] for c in every(ml, "list_channels", "Channels") if c["State"] != "DELETED"},
            "inputs": {i["Id"] for i in every(ml, "list_inputs", "Inputs") if i["State"] != "DELETED"},
            "package_channels": {c["Id"] for c in every(mp, "list_channels", "Channels")},
            "endpoints": {e["Id"] for e in every(mp, "list_origin_endpoints", "OriginEndpoints")},
            "parameters": {p["Name"] for p in every(ssm, "describe_parameters", "Parameters")},
        }

    def stop(self):
        _stop(self.process)


# The MediaLive refresher's calls (channel states, running channels' alerts): background, never counted.
REFRESH_CALLS = ("GET /prod/channels", "GET /prod/channels/{id}/alerts")


class FaultProxy:
    """Tests/AWSEmulator/fault_proxy.py in front of an emulator."""

    def __init__(self, upstream):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = _start([str(EMULATOR / "fault_proxy.py"), "--port", str(self.port), "--upstream", upstream], self.endpoint + "/_proxy/calls", "the fault proxy")

    def fail(self, at, mode, count=1, skip=None):
        """From now on calls at .. at+count-1 fail (count 0: all from at on); the refresher's calls are not counted."""
        skip = REFRESH_CALLS if skip is None else skip
        requests.post(self.endpoint + "/_proxy/fault", json={"at": at, "mode": mode, "count": count, "skip": list(skip)}, timeout=5).raise_for_status()

    def clear(self):
        requests.post(self.endpoint + "/_proxy/clear", timeout=5).raise_for_status()

    def calls(self):
        return requests.get(self.endpoint + "/_proxy/calls", timeout=5).json()

    def stop(self):
        _stop(self.process)
