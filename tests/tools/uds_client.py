#!/usr/bin/python3
"""uds_client.py - a portmux client without DPDK: attaches with hello {"channel": "uds"}, takes
the socket portmuxd passes with SCM_RIGHTS beside the reply, and answers UDP on its port from
the frames it reads there (one Ethernet frame per datagram), in plain Python.

Each UDP datagram to the port is sent back (addresses and ports swapped, so both checksums stay
right), except: a payload starting with "spoof" is answered from another source address
(198.18.0.99: not the appliance's, so the switch drops it as spoofed), one starting with
"probe" is answered to the peer's port 9 instead (closed: the peer's ICMP port unreachable
comes back to this client, the owner of the flow it quotes), and one starting with "close"
makes the client close its end of the channel (the control connection stays open).
It prints the hello and listen replies, then one line per event: "echo N", "spoof", "probe",
"icmp-unreachable", "closed", "arp" (the first ARP frame it was copied), "eof" (portmuxd
closed the channel: it exits); on SIGTERM it sends bye and exits.

Usage: uds_client.py SOCKET NAME PORT [seqpacket|dgram]"""
import array
import json
import select
import signal
import socket
import struct
import sys

stop = False


def on_signal(*_):
    global stop
    stop = True


def request(ctl, req):
    """Send one request; return its reply line and the descriptors that came with it."""
    ctl.sendall((json.dumps(req) + "\n").encode())
    fds = array.array("i")
    line = b""
    while not line.endswith(b"\n"):
        data, anc, _, _ = ctl.recvmsg(1, socket.CMSG_SPACE(4 * fds.itemsize))
        if not data:
            raise ConnectionResetError("the daemon closed the connection")
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        line += data
    return line.decode().strip(), list(fds)


def ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def answer(frame, port):
    """The reply to a UDP datagram to `port` (IPv4), or None; and what it is."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None, None
    ihl = (frame[14] & 0x0F) * 4
    l4 = 14 + ihl
    if len(frame) < l4 + 8 or struct.unpack("!H", frame[l4 + 2 : l4 + 4])[0] != port:
        return None, None
    payload = frame[l4 + 8 :]
    out = bytearray(frame)
    out[0:6], out[6:12] = frame[6:12], frame[0:6]
    out[26:30], out[30:34] = frame[30:34], frame[26:30]
    out[l4 : l4 + 2], out[l4 + 2 : l4 + 4] = frame[l4 + 2 : l4 + 4], frame[l4 : l4 + 2]
    if payload.startswith(b"close"):
        return None, "close"
    if payload.startswith(b"probe"):
        out[l4 + 2 : l4 + 4] = struct.pack("!H", 9)  # to the peer's closed port 9
        out[l4 + 6 : l4 + 8] = b"\0\0"  # no UDP checksum: the port changed
        return bytes(out), "probe"
    if payload.startswith(b"spoof"):
        out[26:30] = socket.inet_aton("198.18.0.99")
        out[24:26] = b"\0\0"
        out[24:26] = struct.pack("!H", ip_checksum(bytes(out[14:l4])))
        out[l4 + 6 : l4 + 8] = b"\0\0"  # no UDP checksum: the source changed
        return bytes(out), "spoof"
    return bytes(out), "echo"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    kind = sys.argv[4] if len(sys.argv) > 4 else "seqpacket"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.connect(path)
    line, fds = request(ctl, {"id": 1, "cmd": "hello", "name": name, "channel": "uds",
                                    "uds_type": kind})
    print(line, flush=True)
    if not json.loads(line).get("ok") or len(fds) != 1:
        sys.exit("hello over uds failed (%d descriptors)" % len(fds))
    chan = socket.socket(fileno=fds[0])
    line, _ = request(ctl, {"id": 2, "cmd": "listen", "proto": "udp", "port": port})
    print(line, flush=True)

    echoed, seen_arp = 0, False
    while not stop:
        ready, _, _ = select.select([chan] if chan else [], [], [], 0.2)
        if not ready:
            continue
        frame = chan.recv(65536)
        if not frame:  # SOCK_SEQPACKET: portmuxd closed its end (detached, or stopped)
            print("eof", flush=True)
            break
        if frame[12:14] == b"\x08\x06" and not seen_arp:
            seen_arp = True
            print("arp", flush=True)
        if len(frame) >= 64 and frame[12:14] == b"\x08\x00" and frame[23] == 1 and frame[34] == 3:
            print("icmp-unreachable", flush=True)  # the error quoting our probe
        reply, what = answer(frame, port)
        if what == "close":
            chan.close()
            chan = None
            print("closed", flush=True)
            continue
        if reply is None:
            continue
        chan.send(reply)
        if what == "echo":
            echoed += 1
            print("echo %d" % echoed, flush=True)
        else:
            print(what, flush=True)
    try:
        request(ctl, {"id": 3, "cmd": "bye"})
    except OSError:
        pass  # the daemon is gone already


if __name__ == "__main__":
    main()
