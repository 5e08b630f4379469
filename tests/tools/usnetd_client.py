#!/usr/bin/env python3
# usnetd_client.py - a usnetd client written from usnetd's message definitions (its src/lib.rs)
# and the way usnet_sockets speaks them, for the namespace tests: it binds a socket path of its
# own, sends one serde-JSON message per datagram to usnetd's socket, and takes an answer only
# from that socket's path. Standard library only.
#
# Usage: usnetd_client.py -s SOCKET [-d DIR] STEP...
# Each STEP is done in order; "> ..." is printed for what is sent, "< ..." for what comes back.
#   uds,IFACE            {"RequestUDS":[IFACE,TID]} (TID: this thread's id, as usnet_sockets
#                        sends it); the answer must be "$" with one SOCK_DGRAM descriptor
#   netmap,IFACE         {"RequestNetmapPipe":[IFACE,TID]}
#   add,PROTO,IP,PORT[,SRC_IP,SRC_PORT]   {"AddMatch":WantMsg} (PORT may be "null")
#   remove,PROTO,IP,PORT[,SRC_IP,SRC_PORT] {"RemoveMatch":WantMsg}
#   query                "QueryUsedPorts"
#   delete               "DeleteClient"
#   raw,TEXT             TEXT as it is (hex,HEX: bytes; big,N: N bytes of spaces after a
#                        valid message)
#   echo,PORT,N          answer the first N UDP datagrams to PORT that come on the frame
#                        channel (back to their sender), then go on
#   spoof,MAC,IP         send one UDP frame on the channel from MAC and IP (to broadcast)
#   pong,N               answer the first N ICMP echo requests that come on the frame channel
#                        (a ping responder behind an AddMatch without dst_port), then go on
#   own,MAC,IP,PORT,N    a host of its own (usnet_sockets' Static MAC): announce MAC/IP with a
#                        gratuitous ARP, answer ARP requests for IP from MAC, and answer the
#                        first N UDP datagrams to IP:PORT sent to MAC (from MAC), then go on
#   dhcp,MAC             a host of its own without an address: DHCP DISCOVER, REQUEST of the
#                        offered address from MAC, print "leased IP from SERVER" at the ACK
#   ready                print "ready" and sleep until killed
# A step may end in "=TEXT" (the last "=" of the step): the answer must be exactly TEXT; "=-": no answer may come (within
# 0.5 s); "=~TEXT": the answer must contain TEXT. Without it, an answer is printed if one
# comes within 2 s. Exit status 1 at the first expectation not met.
import argparse
import array
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def ip_msg(ip):
    # ClientMessageIp, serde's externally tagged form
    return {"Ipv6": ip} if ":" in ip else {"Ipv4": ip}


def want(parts):
    # WantMsg, its fields in the order serde writes them
    proto, ip, port = parts[0], parts[1], parts[2]
    src_ip = parts[3] if len(parts) > 3 else None
    src_port = int(parts[4]) if len(parts) > 4 else None
    return {
        "dst_addr": ip_msg(ip),
        "dst_port": None if port == "null" else int(port),
        "src_addr": ip_msg(src_ip) if src_ip else None,
        "src_port": src_port,
        "protocol": PROTOS.get(proto, None) if not proto.isdigit() else int(proto),
    }


def serde(value):
    # serde_json::to_string: no spaces
    return json.dumps(value, separators=(",", ":")).encode()


class Client:
    def __init__(self, server, directory):
        self.server = server
        self.path = os.path.join(
            directory, "usnet-client-%d-%d" % (os.getpid(), random.getrandbits(48)))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.channel = None
        self.failed = False

    def close(self):
        self.sock.close()
        os.unlink(self.path)

    def send(self, data):
        print("> " + data.decode(errors="replace")[:200], flush=True)
        sent = self.sock.sendto(data, self.server)
        assert sent == len(data)

    def receive(self, timeout):
        # one answer: (bytes, descriptors) or None when none came in time
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        fds = array.array("i")
        data, anc, flags, addr = self.sock.recvmsg(
            1 << 20, socket.CMSG_SPACE(4 * fds.itemsize))
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if addr != self.server:
            self.fail("answer from %r, not from %r" % (addr, self.server))
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            self.fail("answer truncated")
        print("< " + data.decode(errors="replace")[:400]
              + (" + descriptor" * len(fds)), flush=True)
        return data, list(fds)

    def fail(self, why):
        print("FAIL: " + why, flush=True)
        self.failed = True

    def expect(self, expectation, timeout=2.0):
        got = self.receive(0.5 if expectation == "-" else 5.0 if expectation else timeout)
        if expectation is None:
            return got
        if expectation == "-":
            if got is not None:
                self.fail("an answer came, none expected")
            return got
        if got is None:
            self.fail("no answer (expected %r)" % expectation)
        elif expectation.startswith("~"):
            if expectation[1:].encode() not in got[0]:
                self.fail("answer lacks %r" % expectation[1:])
        elif got[0] != expectation.encode():
            self.fail("answer is not %r" % expectation)
        return got

    def request_uds(self, iface, expectation):
        self.send(serde({"RequestUDS": [iface, threading.get_native_id()]}))
        got = self.expect(expectation if expectation is not None else "$")
        if got is None or got[0] != b"$":
            return
        if len(got[1]) != 1:
            return self.fail("%d descriptors with $, expected 1" % len(got[1]))
        self.channel = socket.socket(fileno=got[1][0])
        if self.channel.type != socket.SOCK_DGRAM:
            self.fail("the channel is not SOCK_DGRAM")

    def spoof(self, mac, ip):
        if self.channel is None:
            return self.fail("spoof without a channel (uds first)")
        self.channel.send(udp_frame(mac, ip, b"from a MAC of its own"))
        print("sent a frame from %s %s" % (mac, ip), flush=True)

    def pong(self, count):
        # answer ICMP echo requests that come as frames on the channel
        if self.channel is None:
            return self.fail("pong without a channel (uds first)")
        done = 0
        print("answering ping", flush=True)
        while done < count:
            reply = icmp_echo_reply(self.channel.recv(65536))
            if reply is None:
                continue
            self.channel.send(reply)
            done += 1
            print("answered a ping from %s" % reply_peer(reply), flush=True)

    def own_host(self, mac, ip, port, count):
        # a host with a MAC of its own on the channel: ARP for ip, UDP echo on port
        if self.channel is None:
            return self.fail("own without a channel (uds first)")
        own = bytes.fromhex(mac.replace(":", ""))
        self.channel.send(arp_frame(1, own, ip, b"\xff" * 6, ip))  # gratuitous
        print("announced %s at %s" % (ip, mac), flush=True)
        done = 0
        while done < count:
            frame = self.channel.recv(65536)
            if frame[12:14] == b"\x08\x06" and len(frame) >= 42 and \
                    frame[20:22] == b"\x00\x01" and frame[38:42] == socket.inet_aton(ip):
                self.channel.send(arp_frame(2, own, ip, frame[22:28],
                                            socket.inet_ntoa(frame[28:32])))
                print("answered ARP for %s from %s" % (ip, socket.inet_ntoa(frame[28:32])),
                      flush=True)
                continue
            if frame[0:6] != own:
                continue
            reply = udp_reply(frame, port)
            if reply is None:
                continue
            self.channel.send(reply)
            done += 1
            print("echoed %d bytes to %s from %s" % (len(reply), reply_peer(reply), mac),
                  flush=True)

    def dhcp(self, mac):
        # DISCOVER, OFFER, REQUEST, ACK from a MAC of its own (broadcast flag off: the server
        # answers to that MAC)
        if self.channel is None:
            return self.fail("dhcp without a channel (uds first)")
        own = bytes.fromhex(mac.replace(":", ""))
        xid = random.getrandbits(32)
        self.channel.settimeout(10)
        self.channel.send(dhcp_frame(own, xid, [(53, b"\x01")]))
        print("DHCPDISCOVER from %s" % mac, flush=True)
        offer = self.dhcp_wait(own, xid, 2)
        if offer is None:
            return self.fail("no DHCPOFFER")
        self.channel.send(dhcp_frame(own, xid, [(53, b"\x03"), (50, offer[0]), (54, offer[1])]))
        ack = self.dhcp_wait(own, xid, 5)
        self.channel.settimeout(None)
        if ack is None:
            return self.fail("no DHCPACK")
        print("leased %s from %s" % (socket.inet_ntoa(ack[0]), socket.inet_ntoa(ack[1])),
              flush=True)

    def dhcp_wait(self, own, xid, kind):
        # (yiaddr, server id) of the next DHCP reply of that kind for xid, None after 10 s
        try:
            while True:
                reply = dhcp_reply(self.channel.recv(65536), own, xid)
                if reply is not None and reply[0] == kind:
                    return reply[1:]
        except socket.timeout:
            return None

    def echo(self, port, count):
        # answer UDP datagrams to port that come as frames on the channel
        if self.channel is None:
            return self.fail("echo without a channel (uds first)")
        done = 0
        print("echoing UDP port %d" % port, flush=True)
        while done < count:
            frame = self.channel.recv(65536)
            reply = udp_reply(frame, port)
            if reply is None:
                continue
            self.channel.send(reply)
            done += 1
            print("echoed %d bytes from %s" % (len(reply), reply_peer(reply)), flush=True)


def udp_frame(mac, ip, payload):
    # IPv4 UDP from mac/ip:9 to the broadcast address's :9
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                                socket.inet_aton(ip), b"\xff\xff\xff\xff"))
    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
    return b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) + b"\x08\x00" + bytes(hdr) + udp


def arp_frame(op, mac, ip, target_mac, target_ip):
    # an ARP request (op 1, to broadcast) or reply (op 2, to target_mac) from mac/ip
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac, socket.inet_aton(ip),
                      target_mac if op == 2 else b"\0" * 6, socket.inet_aton(target_ip))
    dst = target_mac if op == 2 else b"\xff" * 6
    return dst + mac + b"\x08\x06" + arp + b"\0" * 18


def dhcp_frame(mac, xid, options):
    # a BOOTP request from mac, 0.0.0.0:68 -> 255.255.255.255:67, with options [(code, bytes)]
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0, 0, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, mac, b"", b"", 0x63825363)
    bootp += b"".join(bytes([code, len(value)]) + value for code, value in options) + b"\xff"
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                                b"\0" * 4, b"\xff" * 4))
    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
    return b"\xff" * 6 + mac + b"\x08\x00" + bytes(hdr) + udp


def dhcp_reply(frame, mac, xid):
    # (message type, yiaddr, server id) of a DHCP reply to chaddr mac for xid; None otherwise
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    b = frame[14 + ihl + 8 :]
    if struct.unpack("!H", frame[14 + ihl + 2 : 14 + ihl + 4])[0] != 68 or b[0] != 2 or \
            struct.unpack("!I", b[4:8])[0] != xid or b[28:34] != mac:
        return None
    kind, server, i = None, b"\0" * 4, 240
    while i + 1 < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        value = b[i + 2 : i + 2 + b[i + 1]]
        if b[i] == 53:
            kind = value[0]
        elif b[i] == 54:
            server = value
        i += 2 + b[i + 1]
    return kind, b[16:20], server


def icmp_echo_reply(frame):
    # the echo reply to an IPv4 ICMP echo request; None for anything else
    if len(frame) < 42 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14 : 14 + ihl]
    total = struct.unpack("!H", ip[2:4])[0]
    icmp = bytearray(frame[14 + ihl : 14 + total])
    if ip[9] != 1 or len(icmp) < 8 or icmp[0] != 8:
        return None
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
    out_ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0x4000, 64, 1,
                                   0, ip[16:20], ip[12:16]))
    out_ip[10:12] = struct.pack("!H", csum(bytes(out_ip)))
    return frame[6:12] + frame[0:6] + b"\x08\x00" + bytes(out_ip) + bytes(icmp)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_reply(frame, port):
    # the same payload back to the sender of an IPv4 UDP datagram to port; None otherwise
    if len(frame) < 42 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14 : 14 + ihl]
    if ip[9] != 17 or len(frame) < 14 + ihl + 8:
        return None
    udp = frame[14 + ihl :]
    sport, dport, length = struct.unpack("!HHH", udp[:6])
    if dport != port:
        return None
    payload = udp[8:length]
    out_udp = struct.pack("!HHHH", dport, sport, 8 + len(payload), 0) + payload
    out_ip = bytearray(struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(out_udp), 0, 0x4000, 64, 17, 0, ip[16:20], ip[12:16]))
    out_ip[10:12] = struct.pack("!H", csum(bytes(out_ip)))
    return frame[6:12] + frame[0:6] + b"\x08\x00" + bytes(out_ip) + out_udp


def reply_peer(frame):
    return socket.inet_ntoa(frame[30:34])


def step(client, text):
    expectation = None
    if "=" in text:  # the last one: test messages hold none
        text, expectation = text.rsplit("=", 1)
    parts = text.split(",")
    kind = parts[0]
    if kind == "uds":
        return client.request_uds(parts[1], expectation)
    if kind == "netmap":
        client.send(serde({"RequestNetmapPipe": [parts[1], threading.get_native_id()]}))
    elif kind in ("add", "remove"):
        tag = "AddMatch" if kind == "add" else "RemoveMatch"
        client.send(serde({tag: want(parts[1:])}))
    elif kind == "query":
        client.send(b'"QueryUsedPorts"')
    elif kind == "delete":
        client.send(b'"DeleteClient"')
    elif kind == "raw":
        client.send(text[4:].encode())
    elif kind == "hex":
        client.send(bytes.fromhex(parts[1]))
    elif kind == "big":
        client.send(b'"QueryUsedPorts"' + b" " * int(parts[1]))
    elif kind == "echo":
        return client.echo(int(parts[1]), int(parts[2]))
    elif kind == "spoof":
        return client.spoof(parts[1], parts[2])
    elif kind == "pong":
        return client.pong(int(parts[1]))
    elif kind == "dhcp":
        return client.dhcp(parts[1])
    elif kind == "own":
        return client.own_host(parts[1], parts[2], int(parts[3]), int(parts[4]))
    elif kind == "ready":
        print("ready", flush=True)
        while True:
            time.sleep(3600)
    else:
        client.fail("unknown step %r" % text)
        return None
    got = client.expect(expectation)
    if kind == "query" and got is not None and expectation is None:
        answer = json.loads(got[0])  # must be usnetd's QueryUsedPortsAnswer
        lists = answer["QueryUsedPortsAnswer"]
        for key in ("listening", "connected"):
            for proto, ip, port in lists[key]:
                assert isinstance(proto, int) and isinstance(port, int)
                assert list(ip) in (["Ipv4"], ["Ipv6"])
    return None


def main():
    parser = argparse.ArgumentParser(description="a usnetd client (usnet_sockets' way)")
    parser.add_argument("-s", "--socket", required=True, help="usnetd's socket")
    parser.add_argument("-d", "--dir", default="/tmp", help="where to bind our own path")
    parser.add_argument("steps", nargs="+")
    args = parser.parse_args()
    client = Client(args.socket, args.dir)
    try:
        for text in args.steps:
            step(client, text)
            if client.failed:
                return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
