#!/usr/bin/python3
# rule_churn.py - a control-socket client that attaches once (hello) and then claims and
# releases UDP ports in a loop (listen, release) for SECONDS, at most RATE pairs per second.
# Prints "churn: N listen/release pairs, E errors, max M ms per request".
# Usage: rule_churn.py SOCKET SECONDS RATE
import json
import socket
import sys
import time

path, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
stream = sock.makefile("rw")
slowest = 0.0


def req(obj):
    global slowest
    t = time.monotonic()
    stream.write(json.dumps(obj) + "\n")
    stream.flush()
    reply = json.loads(stream.readline())
    slowest = max(slowest, time.monotonic() - t)
    return reply


hello = req({"cmd": "hello", "id": 0, "name": "churn"})
if not hello.get("ok"):
    sys.exit(f"hello refused: {hello}")
pairs = errors = 0
start = time.monotonic()
end = start + seconds
i = 0
while time.monotonic() < end:
    i += 1
    r = req({"cmd": "listen", "id": i, "proto": "udp", "port": 20000 + i % 1000})
    if r.get("ok"):
        r = req({"cmd": "release", "id": i, "rule_id": r["result"]["rule_id"]})
    if r.get("ok"):
        pairs += 1
    else:
        errors += 1
        print(f"error: {r}", file=sys.stderr)
    pause = start + i / rate - time.monotonic()
    if pause > 0:
        time.sleep(pause)
print(f"churn: {pairs} listen/release pairs, {errors} errors, "
      f"max {slowest * 1000:.1f} ms per request", flush=True)
