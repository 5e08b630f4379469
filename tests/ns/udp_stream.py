#!/usr/bin/python3
# udp_stream.py - a steady stream of numbered UDP datagrams to some ports of one address, and a
# count of the echoes that came back, per port. Runs until STOP_FILE exists (or MAX_SECONDS),
# then waits up to 3 s for late echoes and prints, per port:
#   "port P: sent N received M missing K first-missing [..]"
# Usage: udp_stream.py ADDRESS STOP_FILE RATE MAX_SECONDS PORT[,PORT...]
import os
import select
import socket
import sys
import time

addr, stop_file, rate, max_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
ports = [int(p) for p in sys.argv[5].split(",")]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
socks = {}
for p in ports:
    s = socket.socket(family, socket.SOCK_DGRAM)  # unconnected: ICMP errors are ignored
    # a receive buffer that outlasts this process being descheduled for a while (root may
    # exceed net.core.rmem_max): echoes lost in our own socket would look like the switch's
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.setblocking(False)
    socks[p] = s
sent = {p: 0 for p in ports}
got = {p: set() for p in ports}


def drain(until):
    while True:
        left = until - time.monotonic()
        ready, _, _ = select.select(list(socks.values()), [], [], max(0.0, left))
        if not ready:
            return
        for s in ready:
            try:
                data = s.recv(2048)
            except OSError:
                continue
            try:
                p, n = data.decode().split(":")
                got[int(p)].add(int(n))
            except ValueError:
                pass


t0 = time.monotonic()
n = 0
while not os.path.exists(stop_file) and time.monotonic() - t0 < max_s:
    for p in ports:
        try:
            socks[p].sendto(f"{p}:{n}".encode(), (addr, p))
            sent[p] += 1
        except OSError:
            pass
    n += 1
    drain(t0 + n / rate)
deadline = time.monotonic() + 3
while time.monotonic() < deadline and any(len(got[p]) < sent[p] for p in ports[:1]):
    drain(min(deadline, time.monotonic() + 0.1))
for p in ports:
    missing = sorted(set(range(sent[p])) - got[p])
    print(f"port {p}: sent {sent[p]} received {len(got[p])} missing {len(missing)} "
          f"first-missing {missing[:10]}", flush=True)
