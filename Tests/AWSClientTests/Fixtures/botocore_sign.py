"""Signs requests with botocore, for SignatureV4PropertyTests.
Input: JSON list of {service, region, method, url, headers: [[name, value]], body_hex,
access_key, secret_key, token, amz_date}. Output: JSON list of Authorization headers."""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

requests = json.load(open(sys.argv[1]))
out = []
for r in requests:
    when = datetime.datetime.strptime(r["amz_date"], "%Y%m%dT%H%M%SZ")
    request = AWSRequest(method=r["method"], url=r["url"], data=bytes.fromhex(r["body_hex"]), headers=dict(r["headers"]))
    auth_class = S3SigV4Auth if r["service"] == "s3" else SigV4Auth
    auth = auth_class(Credentials(r["access_key"], r["secret_key"], r.get("token")), r["service"], r["region"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.add_auth(request)
    out.append(request.headers["Authorization"])
json.dump(out, open(sys.argv[2], "w"))
