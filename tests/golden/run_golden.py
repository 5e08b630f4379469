#!/usr/bin/python3
# run_golden.py - runs the golden cases that cases.py wrote: per case a fresh portmuxd (NIC and
# kernel path on veths), capture clients, input phases, then a frame-by-frame comparison of what
# came out at each destination (kernel, wire, every client) plus the drop counters; prints one
# PASS/FAIL line per case. Runs inside the namespace tests/suites/golden.sh prepares.
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter

import pcapio

SOL_PACKET, PACKET_AUXDATA, PACKET_OUTGOING = 263, 8, 4
APP_MAC, KERNEL_TAP_MAC = "02:00:00:00:00:01", "02:00:00:00:00:77"
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
ETH_P_ALL = 0x0003


class Tap:
    """A raw socket on the kernel side of one of the switch's TAP devices: what it sends, the
    switch receives; it collects what the switch wrote (VLAN tags put back from the kernel's
    auxdata)."""

    def __init__(self, ifname):
        self.ifname = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.sock.bind((ifname, 0))
        self.sock.setblocking(False)
        self.frames = []

    def send(self, frames):
        for f in frames:
            self.sock.send(f)

    def poll(self):
        """Moves what arrived into self.frames; returns how many arrived."""
        n = 0
        while True:
            try:
                data, anc, _, addr = self.sock.recvmsg(65535, socket.CMSG_SPACE(32))
            except BlockingIOError:
                return n
            except OSError:  # the TAP went away with its daemon
                return n
            if addr[2] == PACKET_OUTGOING:
                continue
            for level, kind, aux in anc:
                if level != SOL_PACKET or kind != PACKET_AUXDATA or len(aux) < 20:
                    continue
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", aux[:20])
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            self.frames.append(data)
            n += 1

    def reset(self):
        self.poll()
        self.frames = []

    def close(self):
        self.sock.close()


class Ctl:
    """One control connection (JSON lines)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)  # a loaded machine can keep the management lcore waiting
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def request(self, req):
        req = dict(req, id=self.next_id)
        self.next_id += 1
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def stats(self):
        return self.request({"cmd": "stats"})["result"]

    def close(self):
        self.sock.close()


class Client:
    """A pmx-capture process; its stdout lines are collected by a thread."""

    def __init__(self, binary, sock, case_dir, spec, tx_file):
        self.name = spec["name"]
        self.out = os.path.join(case_dir, "out_%s.pcap" % self.name)
        argv = [binary, "-s", sock, "-o", self.out, "-n", self.name, "-w"]
        if tx_file:
            argv += ["-t", os.path.join(case_dir, tx_file)]
        if spec.get("paused"):
            argv.append("-p")
        if spec.get("mac"):
            argv += ["-M", ",".join([spec["mac"]] + spec["addresses"])]
        self.err = open(os.path.join(case_dir, "client_%s.log" % self.name), "w")
        self.proc = subprocess.Popen(argv + spec["rules"], stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def line(self, prefix):
        for ln in self.lines:
            if ln.startswith(prefix):
                return ln
        return None

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(2)
        self.err.close()
        return rc


def wait_until(pred, timeout, step=0.005):
    """Polls pred until it returns something true (returned) or timeout seconds pass (None)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(step)


T0 = [0.0]


def tmark(what):
    if os.environ.get("PMX_GOLDEN_TIMING"):
        now = time.monotonic()
        sys.stderr.write("  %6.3f %s\n" % (now - T0[0], what))
        T0[0] = now


class Failed(Exception):
    pass


def flow_key(b):
    """What orders frames: (L3 addresses, L4 protocol, ports) or the ethertype; frames of
    different flows may leave the switch in any order relative to each other."""
    off, et = 12, None
    if len(b) >= 14:
        et = struct.unpack("!H", b[12:14])[0]
        if et == 0x8100 and len(b) >= 18:
            et, off = struct.unpack("!H", b[16:18])[0], 16
    off += 2
    try:
        if et == 0x0800:
            ihl = (b[off] & 0xf) * 4
            proto, src, dst = b[off + 9], b[off + 12:off + 16], b[off + 16:off + 20]
            first = struct.unpack("!H", b[off + 6:off + 8])[0] & 0x1fff == 0
            l4 = off + ihl
        elif et == 0x86dd:
            proto, src, dst, l4, first = b[off + 6], b[off + 8:off + 24], b[off + 24:off + 40], \
                off + 40, True
        else:
            return ("l2", et)
        ports = b[l4:l4 + 4] if first and proto in (6, 17, 33, 132, 136) else b""
        return (et, proto, src, dst, ports)
    except IndexError:
        return ("short", et)


def describe(frames, limit=4):
    """One line per frame (scapy summary), for failure reports."""
    try:
        from scapy.all import Ether
        lines = [Ether(f).summary() for f in frames[:limit]]
    except Exception:  # noqa: BLE001 - any dissection failure: fall back to hex
        lines = [f[:48].hex() for f in frames[:limit]]
    if len(frames) > limit:
        lines.append("... %d more" % (len(frames) - limit))
    return ["      " + ln for ln in lines]


def compare(dest, expected, actual, ordered):
    """Lines describing how actual differs from expected at dest ([] if equal)."""
    problems = []
    missing = list((Counter(expected) - Counter(actual)).elements())
    extra = list((Counter(actual) - Counter(expected)).elements())
    if missing:
        problems.append("    %s: %d expected frame(s) missing:" % (dest, len(missing)))
        problems += describe(missing)
    if extra:
        problems.append("    %s: %d unexpected frame(s):" % (dest, len(extra)))
        problems += describe(extra)
    if ordered and not missing and not extra:
        flows = {}
        for f in expected:
            flows.setdefault(flow_key(f), [[], []])[0].append(f)
        for f in actual:
            flows.setdefault(flow_key(f), [[], []])[1].append(f)
        for key, (exp, act) in flows.items():
            if exp != act:
                problems.append("    %s: frames of one flow out of order:" % dest)
                problems += describe(act)
                break
    return problems


def thread_states(pid):
    """ "name:state(wchan)" of every thread of a process, to tell a blocked lcore from a
    starved one when the switch stops making progress."""
    out = []
    try:
        for tid in sorted(os.listdir("/proc/%d/task" % pid)):
            base = "/proc/%d/task/%s/" % (pid, tid)
            with open(base + "comm") as f:
                name = f.read().strip()
            with open(base + "stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(base + "wchan") as f:
                wchan = f.read().strip()
            out.append("%s:%s(%s)" % (name, state, wchan))
    except OSError:
        pass
    return " ".join(out)


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.wire = self.kernel = None

    def config(self, case, prefix, sock):
        # the kernel side of the kernel path gets a MAC of its own: the namespace's kernel then
        # ignores the frames the switch hands it (they are for the appliance's MAC)
        exception = {"type": "device",
                     "device": "net_tap1,iface=%s,mac=%s" % (self.args.kernel_if, KERNEL_TAP_MAC),
                     "addresses": ["198.18.0.1", "fd00::1"]}
        if not case["kernel_path"]:
            exception = {"type": "none", "addresses": ["198.18.0.1", "fd00::1"]}
        return {
            "eal": ["-l", self.args.lcores, "--file-prefix", prefix, "--no-pci",
                    "--log-level", "pmd.net.tap:warning"],
            "ports": [{"name": "wan0", "device": "net_tap0,iface=%s,mac=%s" %
                       (self.args.wire_if, APP_MAC), "exception": exception}],
            "kernel": {"policy": case["policy"], "allow": case["allow"]},
            "control": {"socket": sock, "mode": "0660", "group": None},
            "clients": {"max": 8, "ring_size": case["ring_size"], "max_rules": 256,
                        "own_macs": 2},
            "mbufs": 4096,
            "rules": case.get("config_rules", []),
        }

    def start_daemon(self, d, case, prefix):
        sock = os.path.join(d, "portmux.sock")
        conf = os.path.join(d, "portmux.json")
        with open(conf, "w") as f:
            json.dump(self.config(case, prefix, sock), f, indent=1)
        log = open(os.path.join(d, "portmuxd.log"), "w")
        proc = subprocess.Popen([os.path.join(self.build, "app/portmuxd/portmuxd"), "-c", conf],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.daemon = proc  # stopped by run_case whatever happens from here on

        def ready():
            if proc.poll() is not None:
                return "exited"
            with open(os.path.join(d, "portmuxd.log")) as f:
                return "ready" if any(ln.startswith("ready") for ln in f) else None
        if wait_until(ready, 60, 0.02) != "ready":
            raise Failed("portmuxd did not start (%s): see %s/portmuxd.log" %
                         ("exited" if proc.poll() is not None else "no ready line", d))
        return proc, sock

    def stop_daemon(self, proc, prefix):
        rc = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "nothing (killed after 20 s)"
        shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)
        for f in os.listdir("/dev/hugepages") if os.path.isdir("/dev/hugepages") else []:
            if f.startswith(prefix + "map_"):
                os.unlink(os.path.join("/dev/hugepages", f))
        return rc

    def quiesce(self, ctl, passes=3):
        """Waits until every RX lcore finished `passes` more loops: whatever it had taken
        from a queue before has been delivered or dropped."""
        start = [lc["loops"] for lc in ctl.stats()["lcores"]]
        ok = wait_until(lambda: all(lc["loops"] >= s + passes for lc, s in
                                    zip(ctl.stats()["lcores"], start)), 10)
        if not ok:
            raise Failed("the RX lcores stopped looping (loops %s, then %s; threads: %s)" %
                         (start, [lc["loops"] for lc in ctl.stats()["lcores"]],
                          thread_states(self.daemon_pid)))

    def run_phase(self, ph, d, ctl, clients, sent):
        if ph["kind"] in ("wire", "kernel"):
            tap, key = (self.wire, "nic") if ph["kind"] == "wire" else (self.kernel, "kernel")
            tap.send(pcapio.read(os.path.join(d, ph["file"])))
            sent[key] += ph["count"]
            if not wait_until(lambda: ctl.stats()["ports"][0][key]["ipackets"] >= sent[key], 10):
                st = ctl.stats()
                raise Failed("%s frames never reached the switch (%s ipackets %d < %d, "
                             "lcore loops %s; threads: %s)" %
                             (ph["kind"], key, st["ports"][0][key]["ipackets"], sent[key],
                              [lc["loops"] for lc in st["lcores"]],
                              thread_states(self.daemon_pid)))
            self.quiesce(ctl)
        elif ph["kind"] == "tx":
            cl = clients[ph["client"]]

            def handled():
                """Frames of the client that left, were delivered locally or dropped
                (learning goes through the management lcore: lcore loops say nothing)."""
                st = ctl.stats()
                mine = [x for x in st.get("clients", []) if x["name"] == cl.name]
                return sum(mine[0].get(k, 0) for k in ("tx", "spoofed")) + \
                    st["drops"]["malformed"] if mine else 0
            before = handled()
            cl.proc.send_signal(signal.SIGUSR1)
            line = wait_until(lambda: cl.line("sent"), 10)
            if line != "sent %d" % ph["count"]:
                raise Failed("client %s could not send its frames (%s)" % (cl.name, line))
            wait_until(lambda: handled() >= before + ph["count"], 3)
            self.quiesce(ctl, 3 + ph["count"] // 32)
        elif ph["kind"] == "ctl":
            reply = ctl.request(ph["request"])
            if bool(reply.get("ok")) != ph["ok"]:
                raise Failed("control request %s: %s" % (json.dumps(ph["request"]),
                                                         json.dumps(reply)))
            self.quiesce(ctl)

    def settled(self, ctl, case):
        """True once every destination got as many frames as expected and every expected
        drop was counted (the verdict itself comes from the comparison)."""
        got = {}
        for dest, tap in (("wire", self.wire), ("kernel", self.kernel)):
            if tap is not None:
                tap.poll()
            got[dest] = len(tap.frames) if tap is not None else 0
        st = ctl.stats()
        for cl in st.get("clients", []):
            got[cl["name"]] = cl["rx"]
        if any(got.get(dest, 0) < e["count"] for dest, e in case["expect"].items()):
            return False
        return all(st["drops"].get(r, 0) >= n for r, n in case["drops"].items())

    def check_counters(self, case, st, rules):
        problems = []
        for reason, n in case["drops"].items():
            if st["drops"].get(reason) != n:
                problems.append("    drops.%s: expected %d, got %s" %
                                (reason, n, st["drops"].get(reason)))
        by_name = {cl["name"]: cl for cl in st.get("clients", [])}
        for name, counters in case["client_counters"].items():
            for k, v in counters.items():
                got = by_name.get(name, {}).get(k)
                if got != v:
                    problems.append("    client %s %s: expected %d, got %s" % (name, k, v, got))
        for want in case["rules"]:
            fields = {k: v for k, v in want.items() if k != "client"}
            found = [r for r in rules if isinstance(r.get("owner"), dict) and
                     r["owner"].get("name") == want["client"] and
                     all(r.get(k) == v for k, v in fields.items())]
            if not found:
                mine = [r for r in rules if isinstance(r.get("owner"), dict) and
                        r["owner"].get("name") == want["client"]]
                problems.append("    no rule of %s with %s; it has: %s" %
                                (want["client"], json.dumps(fields), json.dumps(mine)))
        return problems

    def run_case(self, d, index):
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        prefix = "%s%d" % (self.args.prefix, index)
        problems = []
        holders = []
        for spec in case["kernel_sockets"]:
            proto, port = spec.split(":")
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp"
                              else socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", int(port)))
            if proto == "tcp":
                s.listen(1)
            holders.append(s)
        daemon, ctl, clients, rc = None, None, {}, None
        self.wire = self.kernel = self.daemon = None
        try:
            tmark("case start")
            daemon, sock = self.start_daemon(d, case, prefix)
            self.daemon_pid = daemon.pid
            self.wire = Tap(self.args.wire_if)
            self.kernel = Tap(self.args.kernel_if) if case["kernel_path"] else None
            tmark("daemon ready")
            ctl = Ctl(sock)
            base_in_use = ctl.stats()["mempool"]["in_use"]  # PMDs keep RX rings stocked
            tx_files = {ph["client"]: ph["file"] for ph in case["phases"] if ph["kind"] == "tx"}
            # attach all at once (EAL start-up is the slow part), then rules in order
            for spec in case["clients"]:
                cl = Client(os.path.join(self.build, "tests/golden/pmx-capture"), sock, d, spec,
                            tx_files.get(spec["name"]))
                clients[cl.name] = cl
            for cl in clients.values():
                if not wait_until(lambda: cl.line("attached") or cl.proc.poll() is not None, 60) \
                        or cl.line("attached") is None:
                    raise Failed("client %s did not attach: see %s/client_%s.log" %
                                 (cl.name, d, cl.name))
            for cl in clients.values():
                cl.proc.send_signal(signal.SIGUSR2)
                if not wait_until(lambda: cl.line("ready") or cl.proc.poll() is not None, 10) \
                        or cl.line("ready") is None:
                    raise Failed("client %s could not register its rules: see %s/client_%s.log"
                                 % (cl.name, d, cl.name))
            tmark("clients ready")
            sent = {"nic": 0, "kernel": 0}
            for ph in case["phases"]:
                self.run_phase(ph, d, ctl, clients, sent)
                tmark("phase " + ph["kind"])
            wait_until(lambda: self.settled(ctl, case), case["settle"], 0.02)
            tmark("settled")
            self.quiesce(ctl)
            st = ctl.stats()
            rules = ctl.request({"cmd": "rules"}).get("result", {}).get("rules", [])
            for cl in clients.values():
                rc = cl.stop()
                if rc != 0:
                    problems.append("    client %s exited with %s" % (cl.name, rc))
            clients = {}
            tmark("clients stopped")
            if daemon.poll() is not None:
                problems.append("    portmuxd died during the case (exit %s)" % daemon.poll())
            elif not wait_until(lambda: ctl.stats()["mempool"]["in_use"] <= base_in_use, 2, 0.02):
                problems.append("    %d mbufs in use after the clients left, %d before the case"
                                % (ctl.stats()["mempool"]["in_use"], base_in_use))
            problems += self.check_counters(case, st, rules)
        except (Failed, ConnectionError, OSError, KeyError) as e:
            problems.append("    harness: %s: %s" % (type(e).__name__, e))
            if daemon is not None and daemon.poll() is not None:
                problems.append("    portmuxd died during the case (exit %s): see %s/portmuxd.log"
                                % (daemon.poll(), d))
        finally:
            for cl in clients.values():
                cl.stop()
            if ctl is not None:
                ctl.close()
            for tap in (self.wire, self.kernel):
                if tap is not None:
                    tap.poll()
            if self.daemon is not None:
                rc = self.stop_daemon(self.daemon, prefix)
                self.daemon = None
            for tap in (self.wire, self.kernel):
                if tap is not None:
                    tap.close()
            for s in holders:
                s.close()
        tmark("daemon stopped")
        if rc not in (0, None):
            problems.append("    portmuxd exited with %s on SIGTERM" % rc)
        for dest, tap in (("wire", self.wire), ("kernel", self.kernel)):
            pcapio.write(os.path.join(d, "out_%s.pcap" % dest), tap.frames if tap else [])
        got_counts = []
        for dest, e in case["expect"].items():
            expected = pcapio.read(os.path.join(d, e["file"]))
            path = os.path.join(d, "out_%s.pcap" % dest)
            try:
                actual = pcapio.read(path) if os.path.exists(path) else []
            except ValueError as e:
                problems.append("    %s: capture unreadable (%s)" % (dest, e))
                actual = []
            got_counts.append("%s %d/%d" % (dest, len(actual), len(expected)))
            problems += compare(dest, expected, actual, case["ordered"])
        return case, problems, got_counts


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--cases", required=True, help="directory cases.py wrote")
    ap.add_argument("--wire-if", default="gw0", help="the NIC's TAP (kernel side: the wire)")
    ap.add_argument("--kernel-if", default="gk0", help="the kernel path's TAP")
    ap.add_argument("--prefix", default="pmxg%d" % os.getpid())
    ap.add_argument("--lcores", default="0-1")
    ap.add_argument("only", nargs="*", help="substrings of case names to run")
    args = ap.parse_args()

    # SIGTERM (the suite's timeout) unwinds through the finally blocks: clients and daemon stop
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit("run_golden.py: terminated"))
    runner = Runner(args)
    names = sorted(n for n in os.listdir(args.cases)
                   if os.path.isfile(os.path.join(args.cases, n, "case.json")) and
                   (not args.only or any(s in n for s in args.only)))
    failed, details = [], []
    start = time.monotonic()
    print("%-46s %-6s %s" % ("case", "result", "frames got/expected per destination"))
    for i, name in enumerate(names):
        t0 = time.monotonic()
        case, problems, counts = runner.run_case(os.path.join(args.cases, name), i)
        verdict = "FAIL" if problems else "PASS"
        print("%-46s %-6s %s (%.1fs)" % (name, verdict, ", ".join(counts),
                                         time.monotonic() - t0))
        if problems:
            failed.append(name)
            details += ["FAIL %s: %s" % (name, case["covers"])] + problems
        sys.stdout.flush()
    if details:  # last, where a log tail shows them
        print("\n" + "\n".join(details))
    print("\ngolden: %d passed, %d failed in %.0fs%s" %
          (len(names) - len(failed), len(failed), time.monotonic() - start,
           (" (failed: %s)" % " ".join(failed)) if failed else ""))
    return 1 if failed or not names else 0


if __name__ == "__main__":
    sys.exit(main())
