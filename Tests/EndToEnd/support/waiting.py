"""One way to wait for a condition in the tests."""
import time


def eventually(probe, timeout=15, what="condition", interval=0.05):
    """Calls `probe` until it returns something truthy (returned), or fails after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
