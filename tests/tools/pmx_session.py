#!/usr/bin/python3
"""pmx_session.py - hold one control session open for a test: send the requests given on the
command line (JSON, one per argument), print each reply on its own line, then keep the session
(and so the client's attach) until SIGTERM/SIGINT, when it sends bye and exits."""
import json
import signal
import socket
import sys


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sys.argv[1])
    stream = sock.makefile("rw")
    for i, text in enumerate(sys.argv[2:], 1):
        req = json.loads(text)
        req.setdefault("id", i)
        stream.write(json.dumps(req) + "\n")
        stream.flush()
        print(stream.readline().strip(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.pause()
    stream.write('{"cmd": "bye", "id": 0}\n')
    stream.flush()
    print(stream.readline().strip(), flush=True)


if __name__ == "__main__":
    main()
