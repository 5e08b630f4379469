#!/usr/bin/env python3
"""fake_systemd.py - what systemd sees of a Type=notify service, without systemd: binds a
NOTIFY_SOCKET, starts the command with NOTIFY_SOCKET, WATCHDOG_USEC and (for the journal stream)
stderr on a file whose device:inode is JOURNAL_STREAM, and prints one JSON line per event:
{"t": seconds, "notify": "READY=1..."}, {"t", "stdout_ready": bool} with each READY (whether
the command had printed "ready" by then), {"t", "halt"/"resume": tid} around a stop of one
thread (--halt-thread COMM --halt-at S --halt-for S, with ptrace: only that thread stops),
and {"t", "exit": status} after SIGTERM at --stop-at. --halt-at and --stop-at count from
READY=1 (start-up takes seconds on a loaded machine). Every process it starts it ends.
Usage: fake_systemd.py --dir DIR --watchdog-usec N --stop-at S [...] -- CMD..."""
import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT, WALL = 17, 0x4206, 0x4207, 0x40000000


def emit(t0, **kv):
    print(json.dumps(dict(t=round(time.time() - t0, 3), **kv)), flush=True)


def thread_of(pid, comm):
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == comm:
                return int(tid)
    return None


def halt(t0, ready, pid, comm, at, duration):
    """At seconds after READY=1, stop one thread of pid (ptrace: the others keep running)
    for duration seconds."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    ready.wait()
    time.sleep(at)
    tid = thread_of(pid, comm)
    if tid is None or libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        emit(t0, error="cannot seize thread %s" % comm)
        return
    libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
    os.waitpid(tid, WALL)
    emit(t0, halt=tid)
    time.sleep(duration)
    libc.ptrace(PTRACE_DETACH, tid, None, None)
    emit(t0, resume=tid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--watchdog-usec", type=int, default=0)
    ap.add_argument("--stop-at", type=float, required=True)
    ap.add_argument("--halt-thread")
    ap.add_argument("--halt-at", type=float, default=0)
    ap.add_argument("--halt-for", type=float, default=0)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    path = os.path.join(a.dir, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.1)
    out = open(os.path.join(a.dir, "stdout.log"), "w")
    err = open(os.path.join(a.dir, "stderr.log"), "w")
    st = os.fstat(err.fileno())
    env = dict(os.environ, NOTIFY_SOCKET=path, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    if a.watchdog_usec:
        env["WATCHDOG_USEC"] = str(a.watchdog_usec)
    t0 = time.time()
    p = subprocess.Popen(a.cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
    ready = threading.Event()
    ready_at = None
    try:
        if a.halt_thread:
            threading.Thread(target=halt, daemon=True,
                             args=(t0, ready, p.pid, a.halt_thread, a.halt_at,
                                   a.halt_for)).start()
        stopped = False
        while True:
            try:
                msg = sock.recv(4096).decode()
                emit(t0, notify=msg)
                if msg.startswith("READY=1"):
                    ready_at = time.time()
                    ready.set()
                    with open(out.name) as f:
                        emit(t0, stdout_ready="ready" in f.read().split("\n"))
            except socket.timeout:
                if p.poll() is not None:
                    break
            if p.poll() is not None and ready_at is None:
                break
            if not stopped and ready_at is not None and time.time() - ready_at > a.stop_at:
                p.send_signal(signal.SIGTERM)
                stopped = True
        emit(t0, exit=p.wait())
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
