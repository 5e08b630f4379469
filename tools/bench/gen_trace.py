#!/usr/bin/python3
"""gen_trace.py - write the benchmark's pcap trace: 64-byte UDP/IPv4 frames over N flows.

Each flow is one (remote IP, remote port) talking to the switch's address. Flow f goes to
client f % CLIENTS: UDP destination port BASE + (f % CLIENTS), the port that client listens
on. A fraction of the flows (--unmatched) goes to UNMATCHED_BASE + (f % CLIENTS) instead,
which no client owns, so those frames take the kernel path. The trace holds one frame per
flow (or --packets frames, cycling over the flows), in flow order.

Frames are 60 bytes in the file: 64 bytes on the wire with the FCS the NIC strips.
The pcap is written directly (no scapy) so that 1M flows take seconds.
With --flows-out FILE, the matched flows are also written one a line
("udp LOCAL_IP LOCAL_PORT REMOTE_IP REMOTE_PORT CLIENT") for the exact-rule mode of pmx-sink.
"""
import argparse
import ipaddress
import struct
import sys

LOCAL_IP = "198.18.0.1"
REMOTE_NET = "198.19.0.0"  # remote hosts: 198.19.x.y, 2^16 of them, then more source ports
BASE_PORT = 10000
UNMATCHED_BASE = 20000
REMOTE_PORT_BASE = 1024
DST_MAC = bytes.fromhex("02706d780001")
SRC_MAC = bytes.fromhex("02706d780002")
FRAME_LEN = 60  # + 4 bytes FCS = 64 on the wire


def ip_checksum(hdr: bytes) -> int:
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def is_unmatched(flow: int, fraction: float) -> bool:
    """Deterministic choice of the unmatched flows (multiplicative hash of the flow index)."""
    if fraction <= 0.0:
        return False
    if fraction >= 1.0:
        return True
    return ((flow * 2654435761) & 0xFFFFFFFF) < fraction * 2**32


def flow_tuple(flow: int, clients: int, unmatched: float):
    remote = int(ipaddress.IPv4Address(REMOTE_NET)) + (flow & 0xFFFF)
    rport = REMOTE_PORT_BASE + (flow >> 16)
    client = flow % clients
    miss = is_unmatched(flow, unmatched)
    lport = (UNMATCHED_BASE if miss else BASE_PORT) + client
    return remote, rport, lport, client, miss


def frame(remote: int, rport: int, lport: int, local: int, ident: int) -> bytes:
    payload = b"portmux-bench-64B!"  # 18 bytes: 14 + 20 + 8 + 18 = 60
    udp = struct.pack("!HHHH", rport, lport, 8 + len(payload), 0)
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(udp) + len(payload), ident & 0xFFFF, 0,
                     64, 17, 0, remote, local)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    f = DST_MAC + SRC_MAC + b"\x08\x00" + ip + udp + payload
    assert len(f) == FRAME_LEN
    return f


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True, help="pcap file to write")
    ap.add_argument("-f", "--flows", type=int, default=65536, help="flows, 1..1048576")
    ap.add_argument("-c", "--clients", type=int, default=4, help="clients (ports BASE..)")
    ap.add_argument("-u", "--unmatched", type=float, default=0.0,
                    help="fraction of flows no client owns (kernel path), 0..1")
    ap.add_argument("-p", "--packets", type=int, default=0,
                    help="frames in the trace (default: one per flow)")
    ap.add_argument("--flows-out", help="also list the matched flows in this file")
    a = ap.parse_args()
    if not 1 <= a.flows <= 1 << 20:
        ap.error("--flows must be 1..1048576")
    if not 1 <= a.clients <= 256:
        ap.error("--clients must be 1..256")
    if not 0.0 <= a.unmatched <= 1.0:
        ap.error("--unmatched must be 0..1")
    packets = a.packets or a.flows
    local = int(ipaddress.IPv4Address(LOCAL_IP))

    # one frame per flow, built once; the trace cycles over them
    frames = []
    n_unmatched = 0
    listing = open(a.flows_out, "w") if a.flows_out else None
    for f in range(a.flows):
        remote, rport, lport, client, miss = flow_tuple(f, a.clients, a.unmatched)
        frames.append(frame(remote, rport, lport, local, f))
        n_unmatched += miss
        if listing and not miss:
            listing.write("udp %s %d %s %d %d\n" % (LOCAL_IP, lport,
                                                   ipaddress.IPv4Address(remote), rport, client))
    if listing:
        listing.close()

    rec = struct.Struct("<IIII")
    with open(a.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = []
        for i in range(packets):
            chunk.append(rec.pack(i // 1000000, i % 1000000, FRAME_LEN, FRAME_LEN))
            chunk.append(frames[i % a.flows])
            if len(chunk) >= 65536:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk))
    print("%s: %d frames of %d B (+FCS = 64), %d flows, %d clients, %d unmatched flows"
          % (a.out, packets, FRAME_LEN, a.flows, a.clients, n_unmatched))
    return 0


if __name__ == "__main__":
    sys.exit(main())
