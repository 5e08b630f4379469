#!/usr/bin/python3
# first_reply.py - how long after a daemon's "ready" a UDP service answers again: waits for a
# line "ready" in LOG (checked every 5 ms), then sends a numbered datagram to ADDRESS:PORT every
# 10 ms until one comes back, and prints "ready -> first reply: N ms (K datagrams sent)".
# Exit status 1 (and "no reply") when nothing came back within TIMEOUT seconds of "ready".
# Usage: first_reply.py LOG ADDRESS PORT TIMEOUT
import select
import socket
import sys
import time

log, addr, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def ready():
    try:
        with open(log) as f:
            return any(line.strip() == "ready" for line in f)
    except OSError:
        return False


deadline = time.monotonic() + 120
while not ready():
    if time.monotonic() > deadline:
        print("no ready line", flush=True)
        sys.exit(1)
    time.sleep(0.005)
t_ready = time.monotonic()
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
sent = 0
while time.monotonic() - t_ready < timeout:
    try:
        s.sendto(f"probe:{sent}".encode(), (addr, port))
        sent += 1
    except OSError:
        pass
    ready_socks, _, _ = select.select([s], [], [], 0.01)
    if ready_socks:
        try:
            data = s.recv(2048)
        except OSError:  # an ICMP error from a send before the service was back
            continue
        if data.startswith(b"probe:"):
            ms = (time.monotonic() - t_ready) * 1000
            print(f"ready -> first reply: {ms:.0f} ms ({sent} datagrams sent)", flush=True)
            sys.exit(0)
print(f"no reply within {timeout:g} s of ready ({sent} datagrams sent)", flush=True)
sys.exit(1)
