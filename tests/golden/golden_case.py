# golden_case.py - the building blocks of the dataplane golden cases: addresses of the test
# appliance, frame helpers (scapy), and the Case recorder that turns "this frame enters here and
# must come out there" into input pcaps, expected pcaps and a case.json for run_golden.py.
import json
import os
import struct

import pcapio
from scapy.all import IP, Dot1Q, Ether, IPv6, Raw, raw
from scapy.layers.inet6 import IPv6ExtHdrFragment

# The appliance: portmuxd's NIC has APP_MAC and answers on A4/A6 (config "addresses").
APP_MAC = "02:00:00:00:00:01"
PEER_MAC = "02:00:00:00:00:02"
BAD_MAC = "02:00:00:00:00:99"
A4, A6 = "198.18.0.1", "fd00::1"        # the appliance (kernel and clients share them)
P4, P6 = "198.18.0.2", "fd00::2"        # the peer on the wire
X4, X6 = "198.18.0.10", "fd00::10"      # extra addresses a client may claim
ROUTER4, ROUTER6 = "198.18.0.254", "fd00::fe"
DEFAULT_ALLOW = ["tcp:22", "icmp", "icmpv6"]
DROP_REASONS = ["malformed", "no_route", "ring_full", "spoofed", "tx_full", "frag_unknown",
                "firewall", "rule", "nomem", "owner_absent", "dhcp_refused"]

PROTO_UDPLITE, PROTO_DCCP = 136, 33


def mark(case, n):
    """A payload that names the case and frame, to read diffs."""
    return Raw(load=("pmx-golden %s #%d" % (case, n)).encode())


def eth_in(dst=APP_MAC, src=PEER_MAC, vlan=None):
    """Ethernet header of a frame from the peer to the appliance (optionally 802.1Q)."""
    e = Ether(dst=dst, src=src)
    return e / Dot1Q(vlan=vlan) if vlan is not None else e


def eth_out(dst=PEER_MAC, src=APP_MAC):
    """Ethernet header of a frame the appliance (kernel or client) sends."""
    return Ether(dst=dst, src=src)


def l4_bytes(l3, l4):
    """The L4 header + payload as bytes, with its checksum computed over l3's pseudo-header."""
    whole = raw(l3 / l4)
    return whole[len(raw(l3)):]


def frag4(eth, src, dst, proto, l4, ident, sizes, order=None):
    """IPv4 fragments of the datagram whose L4 bytes are l4: sizes are the payload bytes of
    every fragment but the last (multiples of 8). Returns frames in `order` (indexes)."""
    frames, off = [], 0
    cuts = list(sizes) + [len(l4) - sum(sizes)]
    for i, size in enumerate(cuts):
        last = i == len(cuts) - 1
        ip = IP(src=src, dst=dst, id=ident, proto=proto, flags=0 if last else "MF",
                frag=off // 8)
        frames.append(raw(eth / ip / Raw(load=l4[off:off + size])))
        off += size
    return [frames[i] for i in (order or range(len(frames)))]


def frag6(eth, src, dst, nh, l4, ident, sizes, order=None):
    """IPv6 fragments (fragment header right after the IPv6 header), like frag4."""
    frames, off = [], 0
    cuts = list(sizes) + [len(l4) - sum(sizes)]
    for i, size in enumerate(cuts):
        last = i == len(cuts) - 1
        fh = IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=0 if last else 1, id=ident)
        frames.append(raw(eth / IPv6(src=src, dst=dst) / fh / Raw(load=l4[off:off + size])))
        off += size
    return [frames[i] for i in (order or range(len(frames)))]


def udplite(sport, dport, payload=b"", coverage=8):
    """UDP-Lite header (RFC 3828): ports, checksum coverage, checksum (left 0: not checked)."""
    return Raw(load=struct.pack("!HHHH", sport, dport, coverage, 0) + payload)


def dccp_request(sport, dport, payload=b""):
    """DCCP-Request with a 48-bit sequence number (RFC 4340): 16-byte header + service code."""
    hdr = struct.pack("!HHBBH", sport, dport, 5, 0x10 | 0x01, 0)  # doff 5 words, CCVal 0, X
    hdr += struct.pack("!BBHI", 0, 0, 0, 1)                       # type 0 Request, seq
    return Raw(load=hdr + struct.pack("!I", 0) + payload)


def truncate(frame, length):
    """The first `length` bytes of a frame (headers cut off where they stand)."""
    return bytes(frame)[:length]


class Case:
    """One golden case: clients and their rules, phases of input in order (wire, kernel TX,
    client TX, control requests), and where every frame must come out.

    Destinations: "kernel" (the exception path), "wire" (what the switch transmits on its NIC),
    or a client name. A frame given with no destination must be dropped, which the case's
    expected drop counters then account for.
    """

    def __init__(self, name, covers, policy="pass", allow=None, ordered=True, settle=3.0,
                 ring_size=1024, kernel_path=True, config_rules=None):
        self.name = name
        self.covers = covers
        self.policy = policy
        self.allow = list(DEFAULT_ALLOW if allow is None else allow)
        self.ordered = ordered
        self.settle = settle
        self.ring_size = ring_size
        self.kernel_path = kernel_path
        self.config_rules = list(config_rules or [])  # the config file's "rules"
        self.clients = []
        self.phases = []
        self.expect = {"kernel": [], "wire": []}
        self.drops = {}
        self.client_counters = {}
        self.rules = []
        self.kernel_sockets = []
        self.n = 0

    def mark(self):
        self.n += 1
        return mark(self.name, self.n)

    def client(self, name, *rules, paused=False, mac=None, addresses=()):
        """A capture client, attached in declaration order, registering RULE specs (see
        pmx_capture.c: listen,PROTO,IP|*,PORT connect,... claim_ip,IP
        match,PROTO-NUMBER,IPV4[,FROM-IPV4] = usnetd's AddMatch without dst_port). A paused client reads
        nothing until the end of the case (its RX ring fills up). With mac, it has a MAC of
        its own and sends from it with `addresses` (hello "mac", "addresses")."""
        self.clients.append({"name": name, "rules": list(rules), "paused": paused,
                             "mac": mac, "addresses": list(addresses)})
        self.expect.setdefault(name, [])

    def _phase(self, kind, client=None):
        last = self.phases[-1] if self.phases else None
        if last and last["kind"] == kind and last.get("client") == client:
            return last
        ph = {"kind": kind, "frames": []}
        if client is not None:
            ph["client"] = client
        self.phases.append(ph)
        return ph

    def _add(self, ph, frame, dests):
        b = raw(frame) if not isinstance(frame, (bytes, bytearray)) else bytes(frame)
        ph["frames"].append(b)
        for d in dests:
            if d is None:
                continue
            if d not in self.expect:
                raise ValueError("%s: unknown destination %s" % (self.name, d))
            self.expect[d].append(b)

    def wire(self, frame, *dests):
        """A frame from the peer; dests: where it must come out (kernel, clients)."""
        self._add(self._phase("wire"), frame, dests)

    def kernel_tx(self, frame, *dests):
        """A frame the kernel sends through the switch (usually to "wire")."""
        self._add(self._phase("kernel"), frame, dests)

    def client_tx(self, client, frame, *dests):
        """A frame client `client` puts on its TX ring."""
        if client not in [c["name"] for c in self.clients]:
            raise ValueError("%s: unknown client %s" % (self.name, client))
        self._add(self._phase("tx", client), frame, dests)

    def ctl(self, request, ok=True):
        """A control request between two input phases (e.g. set_kernel_policy)."""
        self.phases.append({"kind": "ctl", "request": request, "ok": ok})

    def expect_drops(self, **counts):
        """Drop counters the case must end with (every other reason must stay 0)."""
        for k in counts:
            if k not in DROP_REASONS:
                raise ValueError("%s: unknown drop reason %s" % (self.name, k))
        self.drops.update(counts)

    def expect_client(self, client, **counters):
        """Per-client counters of `stats` (e.g. spoofed=3)."""
        self.client_counters.setdefault(client, {}).update(counters)

    def expect_rule(self, client, **fields):
        """A rule that must be listed by `rules` for client (fields as in the reply)."""
        self.rules.append(dict(fields, client=client))

    def kernel_socket(self, spec):
        """A socket the appliance's kernel holds during the case ("tcp:42000")."""
        self.kernel_sockets.append(spec)

    def write(self, root):
        """Writes root/NAME/: case.json, in_*.pcap per phase, expect_DEST.pcap."""
        d = os.path.join(root, self.name)
        os.makedirs(d, exist_ok=True)
        phases = []
        for i, ph in enumerate(self.phases):
            out = {k: v for k, v in ph.items() if k != "frames"}
            if "frames" in ph:
                fname = "in_%02d_%s%s.pcap" % (i, ph["kind"], "_" + ph["client"]
                                               if "client" in ph else "")
                pcapio.write(os.path.join(d, fname), ph["frames"])
                out["file"] = fname
                out["count"] = len(ph["frames"])
            phases.append(out)
        expect = {}
        for dest, frames in self.expect.items():
            fname = "expect_%s.pcap" % dest
            pcapio.write(os.path.join(d, fname), frames)
            expect[dest] = {"file": fname, "count": len(frames)}
        meta = {"name": self.name, "covers": self.covers, "policy": self.policy,
                "allow": self.allow, "ordered": self.ordered, "settle": self.settle,
                "ring_size": self.ring_size, "kernel_path": self.kernel_path,
                "config_rules": self.config_rules,
                "clients": self.clients,
                "phases": phases, "expect": expect,
                "drops": {r: self.drops.get(r, 0) for r in DROP_REASONS},
                "client_counters": self.client_counters, "rules": self.rules,
                "kernel_sockets": self.kernel_sockets}
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=1)
        return d
