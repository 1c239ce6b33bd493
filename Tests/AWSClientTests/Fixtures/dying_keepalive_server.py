"""An HTTP/1.1 server whose first connection dies after reading its second request, unanswered.

That is a kept-alive connection closing under a request (an idle timeout racing the send, or
an answer lost): libcurl then sends the request again on a fresh connection, and must send its
body too. Every answer says how many body bytes the request carried: "got N".
Usage: dying_keepalive_server.py PORT
"""
import socket
import sys


def read_request(conn, buffered):
    while b"\r\n\r\n" not in buffered:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buffered += chunk
    head, rest = buffered.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    conn.settimeout(3)
    try:
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
    except socket.timeout:
        pass  # the body never came: answer what arrived
    conn.settimeout(None)
    return rest[:length], rest[length:]


def answer(conn, body):
    text = f"got {len(body)}".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(16)
    first = True
    while True:
        conn, _ = listener.accept()
        buffered = b""
        served = 0
        while True:
            body, buffered = read_request(conn, buffered)
            if body is None:
                break
            if first and served == 1:
                break  # the second request on the first connection: die without answering
            answer(conn, body)
            served += 1
        first = False
        conn.close()


main()
