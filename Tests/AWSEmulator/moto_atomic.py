"""moto_server, with DynamoDB's atomic writes: the test fixture the Swift tests and the end-to-end
DynamoDB runs use instead of `python3 -m moto.server`.

DynamoDB applies each request to an item atomically (an `UpdateItem ADD` counter hands every caller
its own number). moto's threaded server does not: two requests may read the same item and both
write, so under load two `ADD :one` answered the same number (measured: 8 threads x 50 adds on a
loaded 2-core machine gave 396-398 distinct numbers of 400). Here every DynamoDB request runs under
one lock; everything else is moto's server as it is. The extended AWS emulator (aws_emulator.py)
wraps its moto the same way.

    python3 moto_atomic.py -H 127.0.0.1 -p PORT
"""
import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def atomic_dynamodb(app):
    lock = threading.Lock()

    def application(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with lock:
                # The whole answer is produced inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return application


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    run_simple(args.host, args.port, atomic_dynamodb(DomainDispatcherApplication(create_backend_app)), threaded=True)


if __name__ == "__main__":
    main()
