"""A raw FastCGI client for talking to livestreamd's socket directly, as nginx (or an attacker) would.

Builds records byte by byte, so tests can send well-formed requests, pipelines, or
anything malformed, and read the answer records back.
"""
import socket
import struct
import time

BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR, DATA = 1, 2, 3, 4, 5, 6, 7, 8
GET_VALUES, UNKNOWN_TYPE = 9, 11


def record(kind, request_id, content=b"", padding=None, version=1):
    """One record; padding defaults to the 8-byte alignment nginx uses."""
    if padding is None:
        padding = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", version, kind, request_id, len(content), padding, 0) + content + b"\0" * padding


def length(n, long=False):
    return struct.pack(">I", n | 0x80000000) if long or n > 127 else bytes([n])


def pair(name, value):
    return length(len(name)) + length(len(value)) + name + value


def begin(request_id=1, keep=True, role=1):
    return record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", role, 1 if keep else 0))


def stream(kind, request_id, data, chunk=65535):
    """`data` as records of `kind` (at most `chunk` bytes each), then the empty end record."""
    out = b"".join(record(kind, request_id, data[i:i + chunk]) for i in range(0, len(data), chunk))
    return out + record(kind, request_id)


def params(method="GET", uri="/healthz", body=b"", extra=None):
    values = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "CONTENT_LENGTH": str(len(body)) if body else "",
              "CONTENT_TYPE": "application/json" if body else "", "REMOTE_ADDR": "127.0.0.1"}
    values.update(extra or {})
    return b"".join(pair(k.encode(), v.encode()) for k, v in values.items())


def request(method="GET", uri="/healthz", body=b"", request_id=1, keep=True, extra=None):
    """A whole responder request as nginx sends it."""
    return (begin(request_id, keep) + stream(PARAMS, request_id, params(method, uri, body, extra))
            + stream(STDIN, request_id, body))


class Connection:
    """One connection to the service's unix socket."""

    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def _fill(self, size):
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def response(self):
        """The next answer as (status, headers, body); None if the connection closed first."""
        stdout = b""
        while True:
            if not self._fill(8):
                return None
            version, kind, _, size, padding, _ = struct.unpack(">BBHHBB", self.buffer[:8])
            if not self._fill(8 + size + padding):
                return None
            content = self.buffer[8:8 + size]
            self.buffer = self.buffer[8 + size + padding:]
            assert version == 1, f"answer record of version {version}"
            if kind == STDOUT:
                stdout += content
            elif kind == END_REQUEST:
                return parse_http(stdout)

    def closed_within(self, seconds):
        """True if the service closes the connection within `seconds` (reading and dropping what it sends)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
        return False


def parse_http(stdout):
    head, _, body = stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, headers, body
