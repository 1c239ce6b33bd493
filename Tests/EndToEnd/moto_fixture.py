"""moto_server on 127.0.0.1 with signature checking on, for the AWS-backed end-to-end runs."""
import json
import os
import subprocess
import time
from pathlib import Path

import boto3
import requests

from stack import free_port

ATOMIC_MOTO = Path(__file__).resolve().parents[1] / "AWSEmulator" / "moto_atomic.py"
REGION = "us-east-1"
TABLE = "MedialiveApiStorage"


def create_streams_table(dynamodb, name=TABLE):
    """The streams table as the old deployment's Terraform makes it: hash key `id` (S), on demand."""
    dynamodb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


class Moto:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        # moto's server with DynamoDB's atomic writes (see the fixture's docstring).
        self.process = subprocess.Popen(["python3", str(ATOMIC_MOTO), "-H", "127.0.0.1", "-p", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(self.endpoint + "/moto-api/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("moto_server did not start")
            time.sleep(0.2)
        # Three unchecked calls make a user with an allow-all policy and its key; from then on signatures are checked.
        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="livestreamd")
        iam.put_user_policy(UserName="livestreamd", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="livestreamd")["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret)

    def create_table(self, name=TABLE):
        create_streams_table(self.client("dynamodb"), name)

    def env(self):
        """What livestreamd needs to reach this emulator (credentials through the standard variables)."""
        return {"LIVESTREAM_AWS_ENDPOINT": self.endpoint, "LIVESTREAM_AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": self.key, "AWS_SECRET_ACCESS_KEY": self.secret}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
