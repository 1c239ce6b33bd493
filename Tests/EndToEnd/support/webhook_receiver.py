"""A webhook receiver on 127.0.0.1 that misbehaves on purpose: not listening until told, then
answering some first attempts with 500 and others too slowly; it records every request."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, port, slow_seconds):
        self.port = port
        self.slow_seconds = slow_seconds
        self.requests = []  # (arrival time, path, headers (lower-case names), body bytes, status answered)
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.answer(headers.get("webhook-id", ""))
                with receiver.lock:
                    receiver.requests.append((time.time(), self.path, headers, body, status))
                if status == "slow":
                    time.sleep(receiver.slow_seconds)  # livestreamd gives up first: the same event comes again
                try:
                    self.send_response(500 if status == 500 else 200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender stopped waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, event_id):
        """A first attempt: in turn 500, too slow, 200, 200 (so both misbehaviours surely happen); every later attempt 200."""
        with self.lock:
            first_attempts = list(dict.fromkeys(r[2].get("webhook-id") for r in self.requests))
        if event_id in first_attempts:
            return 200
        return (500, "slow", 200, 200)[len(first_attempts) % 4]

    def received(self):
        with self.lock:
            return list(self.requests)

    def ids(self):
        return {r[2].get("webhook-id") for r in self.received()}

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
