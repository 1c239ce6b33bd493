"""A minimal EC2 instance metadata service (IMDSv2) on 127.0.0.1, for CredentialTests.
Usage: imds_server.py PORT. Refuses credential reads without the session token."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

TOKEN = "imds-session-token"
ROLE = "livestreamd-role"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.answer(200, TOKEN)
        else:
            self.answer(400, "")

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.answer(401, "")
        elif self.path == "/latest/meta-data/iam/security-credentials/":
            self.answer(200, ROLE)
        elif self.path == "/latest/meta-data/iam/security-credentials/" + ROLE:
            self.answer(200, json.dumps({"Code": "Success", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "imds-secret",
                                         "Token": "imds-token", "Expiration": "2099-01-01T00:00:00Z"}))
        else:
            self.answer(404, "")


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
