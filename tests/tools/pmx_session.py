#!/usr/bin/python3
"""pmx_session.py - hold one control session open for a test: send the requests given on the
command line (JSON, one per argument), print each reply on its own line, then keep the session
(and so the client's attach) until SIGTERM/SIGINT, when it sends bye and exits.

With --reattach SECONDS, a session the daemon closes (it stopped or died) is opened again: the
socket is retried (50 ms, doubling up to 1 s between tries, SECONDS in all), the requests are
sent again and their replies printed, a memif hello carrying the identity the first hello got
("memif": {"id", "secret"}) so that the memif client keeps its interface; then --on-reattach
CMD runs (a shell command: e.g. what makes the memif client connect again).

Usage: pmx_session.py [--reattach SECONDS] [--on-reattach CMD] SOCKET REQUEST..."""
import argparse
import json
import select
import signal
import socket
import subprocess
import sys
import time

stop = False


def on_signal(*_):
    global stop
    stop = True


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock, sock.makefile("rw")


def send_all(stream, requests):
    """Send each request, print its reply; OSError when the connection breaks."""
    replies = []
    for i, req in enumerate(requests, 1):
        req = dict(req)
        req.setdefault("id", i)
        stream.write(json.dumps(req) + "\n")
        stream.flush()
        line = stream.readline()
        if not line:
            raise ConnectionResetError("the daemon closed the connection")
        print(line.strip(), flush=True)
        replies.append(json.loads(line))
    return replies


def wait_socket(path, seconds):
    deadline, delay = time.monotonic() + seconds, 0.05
    while not stop:
        try:
            return connect(path)
        except OSError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
    return None


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--reattach", type=float, default=0)
    ap.add_argument("--on-reattach", default=None)
    ap.add_argument("socket")
    ap.add_argument("requests", nargs="+")
    args = ap.parse_args()
    requests = [json.loads(text) for text in args.requests]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sock, stream = connect(args.socket)
    replies = send_all(stream, requests)
    for req, rep in zip(requests, replies):
        memif = (rep.get("result") or {}).get("memif")
        if req.get("cmd") == "hello" and memif:
            req["memif"] = {"id": memif["id"], "secret": memif["secret"]}
    while not stop:
        try:
            ready, _, _ = select.select([sock], [], [], 0.2)
            closed = bool(ready) and sock.recv(4096, socket.MSG_PEEK) == b""
        except (InterruptedError, ConnectionError):
            closed = not stop
        if not closed:
            continue
        sock.close()
        if args.reattach <= 0:
            print("session: the daemon closed the session", flush=True)
            while not stop:
                time.sleep(0.2)
            return
        print(f"session: the daemon closed the session; waiting for it (at most "
              f"{args.reattach:g} s)", flush=True)
        deadline = time.monotonic() + args.reattach
        while True:
            conn = wait_socket(args.socket, max(0.0, deadline - time.monotonic()))
            if conn is None:
                print("session: no daemon came back", flush=True)
                sys.exit(1)
            sock, stream = conn
            try:  # a dying daemon's listener may take the connection, then reset it
                send_all(stream, requests)
                break
            except OSError as e:
                print(f"session: {e}; trying again", flush=True)
                sock.close()
                time.sleep(0.05)
        if args.on_reattach:
            subprocess.run(args.on_reattach, shell=True, check=False)
    try:
        stream.write('{"cmd": "bye", "id": 0}\n')
        stream.flush()
        print(stream.readline().strip(), flush=True)
    except OSError:
        pass


if __name__ == "__main__":
    main()
