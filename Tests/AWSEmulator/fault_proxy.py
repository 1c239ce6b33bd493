"""An HTTP proxy between livestreamd and the AWS emulator that fails chosen calls.

Run: `python3 Tests/AWSEmulator/fault_proxy.py --port P --upstream http://127.0.0.1:N`.
Every request is forwarded as is (livestreamd signs for the proxy's host; the
emulator does not check signatures here) and counted. Control routes, on the proxy:

A call is described as "<service> <METHOD> <path>" (REST protocols: "medialive POST
/prod/inputs") or "<service> <Operation>" (JSON protocols: "dynamodb PutItem"); a `skip`
entry matches a description with or without its service, and with its id segments
(numbers, 32 hex) as `{id}` ("GET /prod/channels/{id}/alerts" matches any channel's).

  POST /_proxy/fault  {"at": N, "mode": "500"|"throttle"|"reset"|"lost", "count": K, "skip": [...]}
       resets the call counter; calls N .. N+K-1 from now on fail (K defaults to 1;
       K > 1 is a sustained outage of K consecutive calls, 0 = every call from N on).
       Calls described by an entry of `skip` (e.g. "GET /prod/channels", a background
       refresher's listing) are neither counted nor failed. "500" answers HTTP 500
       InternalFailure, "throttle" 429 TooManyRequestsException, "reset" closes the
       connection with a TCP reset before anything reaches the emulator, and "lost"
       forwards the request, lets the emulator act on it, then resets the connection
       instead of answering (AWS acted, the answer was lost). "hold" keeps the request
       until the next /_proxy/clear, then forwards it (a call on its way while its
       caller dies).
  POST /_proxy/clear  no more failures (the counter keeps running)
  GET  /_proxy/calls  {"count": n, "calls": ["<service> <METHOD> <path>", ...], "failed": [...]}
"""
import argparse
import http.client
import json
import re
import socket
import struct
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultPlan:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.failed = []
        self.at = None
        self.mode = None
        self.count = 1
        self.skip = set()
        self.released = threading.Event()

    def set(self, at, mode, count, skip):
        with self.lock:
            self.calls, self.failed = [], []
            self.at, self.mode, self.count, self.skip = at, mode, count, set(skip)

    def clear(self):
        with self.lock:
            self.at = self.mode = None
            self.released.set()
            self.released = threading.Event()

    def next_call(self, description):
        """Counts the call; returns the failure mode for it, or None."""
        # A skipped call may name its resource: "GET /prod/channels/{id}/alerts" skips it for any channel.
        general = re.sub(r"/(?:[0-9]+|[0-9a-f]{32})(?=/|$)", "/{id}", description)
        with self.lock:
            if {description, description.split(" ", 1)[1], general, general.split(" ", 1)[1]} & self.skip:
                return None
            self.calls.append(description)
            n = len(self.calls)
            if self.at is None or n < self.at or (self.count and n >= self.at + self.count):
                return None
            self.failed.append(f"{n} {self.mode} {description}")
            return self.mode


def service_of(headers):
    auth = headers.get("Authorization", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        return scope[3]
    except IndexError:
        return "?"


def make_handler(plan, upstream):
    target = urllib.parse.urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/_proxy/"):
                return self.control(body)
            operation = self.headers.get("X-Amz-Target")
            if operation:
                mode = plan.next_call(f"{service_of(self.headers)} {operation.rsplit('.', 1)[-1]}")
            else:
                mode = plan.next_call(f"{service_of(self.headers)} {self.command} {self.path.split('?')[0]}")
            if mode == "reset":
                return self.reset()
            if mode == "hold":
                with plan.lock:
                    released = plan.released
                released.wait(timeout=300)
            if mode == "500":
                return self.answer(500, {"__type": "InternalFailure", "message": "injected failure"}, {"x-amzn-ErrorType": "InternalFailure"})
            if mode == "throttle":
                return self.answer(429, {"__type": "TooManyRequestsException", "message": "injected throttling"},
                                   {"x-amzn-ErrorType": "TooManyRequestsException"})
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if mode == "lost":
                    return self.reset()
                self.send_response(response.status)
                for k, v in response.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                if self.close_connection:  # the request said Connection: close; say so, as AWS's front ends do
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
            finally:
                connection.close()

        def reset(self):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def control(self, body):
            if self.path == "/_proxy/fault" and self.command == "POST":
                request = json.loads(body or b"{}")
                plan.set(int(request["at"]), request["mode"], int(request.get("count", 1)), request.get("skip", []))
                return self.answer(200, {"ok": True})
            if self.path == "/_proxy/clear" and self.command == "POST":
                plan.clear()
                return self.answer(200, {"ok": True})
            if self.path == "/_proxy/calls" and self.command == "GET":
                with plan.lock:
                    return self.answer(200, {"count": len(plan.calls), "calls": list(plan.calls), "failed": list(plan.failed)})
            return self.answer(404, {"message": "unknown proxy route"})

        def answer(self, status, payload, headers=None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_any

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="fault-injecting proxy for AWS calls")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(FaultPlan(), args.upstream))
    server.daemon_threads = True
    print(f"fault proxy on http://127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
