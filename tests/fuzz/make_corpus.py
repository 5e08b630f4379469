#!/usr/bin/python3
# make_corpus.py - writes the seed frames of tests/fuzz/corpus/packet/: one or more frames of
# every class and every malformed reason the parser knows (scapy builds them). Run it from any
# directory with /usr/bin/python3; the files are committed, so the tests do not need scapy.
import os
import sys

from scapy.all import (ARP, Raw, Dot1Q, Ether, GRE, ICMP, IP, IPv6,
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6PacketTooBig,
                       ICMPv6DestUnreach, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, SCTP, TCP, UDP, raw)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "packet")
MAC_SW, MAC_PEER = "02:00:00:00:00:01", "02:00:00:00:00:02"
E = Ether(dst=MAC_SW, src=MAC_PEER)
BCAST = Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC_PEER)
V4 = dict(src="198.18.0.2", dst="198.18.0.1")
V6 = dict(src="fd00::2", dst="fd00::1")

frames = {
    # flows the fuzz target's rules own
    "udp4-listen-any-7": E / IP(**V4) / UDP(sport=40000, dport=7) / b"hello",
    "udp4-listen-addr-9": E / IP(**V4) / UDP(sport=40000, dport=9) / b"x",
    "tcp4-kernel-22": E / IP(**V4) / TCP(sport=40000, dport=22, flags="S"),
    "tcp4-exact-5000": E / IP(**V4) / TCP(sport=6000, dport=5000, flags="A"),
    "icmp4-echo-1234": E / IP(**V4) / ICMP(type=8, id=0x1234, seq=1) / b"ping",
    "icmp6-echo-1234": E / IPv6(**V6) / ICMPv6EchoRequest(id=0x1234),
    "udp6-claimed-ip": E / IPv6(src="fd00::2", dst="fd00::5") / UDP(sport=1, dport=2),
    "udp6-drop-rule-7": E / IPv6(**V6) / UDP(sport=3, dport=7),
    "tcp6": E / IPv6(**V6) / TCP(sport=40000, dport=80),
    "sctp4": E / IP(**V4) / SCTP(sport=100, dport=200),
    "udplite4": E / IP(**V4, proto=136) / raw(UDP(sport=5, dport=6)),
    "dccp4": E / IP(**V4, proto=33) / (b"\x00\x05\x00\x06" + b"\x00" * 12),
    "ip4-options": E / IP(**V4, options=[b"\x94\x04\x00\x00"]) / UDP(sport=1, dport=7),
    "ip4-padding": E / IP(**V4) / UDP(sport=1, dport=7) / Raw(b"\x00" * 18),
    "gre4-ip-other": E / IP(**V4) / GRE() / b"payload",
    "icmp4-timestamp": E / IP(**V4) / ICMP(type=13),
    # ICMP errors quoting flows
    "icmp4-unreach-udp": E / IP(**V4) / ICMP(type=3, code=3) /
        IP(src="198.18.0.1", dst="198.18.0.2") / UDP(sport=7, dport=40000),
    "icmp4-unreach-echo": E / IP(**V4) / ICMP(type=11) /
        IP(src="198.18.0.1", dst="198.18.0.2") / ICMP(type=8, id=0x1234),
    "icmp4-unreach-frag": E / IP(**V4) / ICMP(type=3, code=4) /
        IP(src="198.18.0.1", dst="198.18.0.2", frag=10) / b"12345678",
    "icmp6-ptb-tcp": E / IPv6(**V6) / ICMPv6PacketTooBig(mtu=1280) /
        IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=22, dport=40000),
    "icmp6-unreach-ext": E / IPv6(**V6) / ICMPv6DestUnreach() /
        IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrDestOpt() / UDP(sport=7, dport=1),
    # fragments
    "frag4-first": E / IP(**V4, flags="MF", id=77) / UDP(sport=1, dport=7, len=100) / (b"a" * 16),
    "frag4-later": E / IP(**V4, frag=3, id=77) / (b"b" * 24),
    "frag6-first": E / IPv6(**V6) / IPv6ExtHdrFragment(m=1, id=99, nh=17) /
        UDP(sport=1, dport=7, len=100) / (b"c" * 16),
    "frag6-later": E / IPv6(**V6) / IPv6ExtHdrFragment(offset=3, id=99, nh=17) / (b"d" * 24),
    "frag6-atomic": E / IPv6(**V6) / IPv6ExtHdrFragment(nh=17) / UDP(sport=1, dport=7),
    # IPv6 extension chains
    "ip6-ext-chain": E / IPv6(**V6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() /
        IPv6ExtHdrDestOpt() / UDP(sport=1, dport=7),
    "ip6-no-next": E / IPv6(**V6, nh=59),
    # neighbour discovery, ARP, broadcast, multicast, non-IP
    "nd6-ns": Ether(dst="33:33:ff:00:00:01", src=MAC_PEER) /
        IPv6(src="fd00::2", dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="fd00::1"),
    "nd6-ra": E / IPv6(src="fe80::2", dst="ff02::1") / ICMPv6ND_RA(),
    "arp-request": BCAST / ARP(pdst="198.18.0.1", psrc="198.18.0.2"),
    "udp4-broadcast": BCAST / IP(src="198.18.0.2", dst="198.18.0.255") / UDP(sport=67, dport=68),
    "udp6-multicast": Ether(dst="33:33:00:00:00:fb", src=MAC_PEER) /
        IPv6(src="fd00::2", dst="ff02::fb") / UDP(sport=5353, dport=5353),
    "lldp": Ether(dst="01:80:c2:00:00:0e", src=MAC_PEER, type=0x88cc) / (b"\x02\x07\x04" * 4),
    "vlan-udp4": E / Dot1Q(vlan=10) / IP(**V4) / UDP(sport=1, dport=7),
    "qinq": Ether(dst=MAC_SW, src=MAC_PEER, type=0x88a8) / Dot1Q(vlan=1) / IP(**V4),
    "vlan-in-vlan": E / Dot1Q(vlan=1) / Dot1Q(vlan=2) / IP(**V4) / UDP(),
}
# malformed frames, one per reason
udp4 = raw(E / IP(**V4) / UDP(sport=1, dport=7) / b"data")
udp6 = raw(E / IPv6(**V6) / UDP(sport=1, dport=7) / b"data")
bad = {
    "bad-eth-short": udp4[:10],
    "bad-eth-vlan-short": raw(E / Dot1Q(vlan=1))[:16],
    "bad-ip4-short": udp4[:14 + 12],
    "bad-ip4-ihl": udp4[:14] + bytes([0x44]) + udp4[15:],
    "bad-ip4-version": udp4[:14] + bytes([0x65]) + udp4[15:],
    "bad-ip4-total-len": udp4[:16] + b"\xff\xff" + udp4[18:],
    "bad-ip4-total-below-hdr": udp4[:16] + b"\x00\x10" + udp4[18:],
    "bad-ip6-payload-len": udp6[:18] + b"\xff\xff" + udp6[20:],
    "bad-ip6-short": udp6[:14 + 30],
    "bad-ip6-ext-long": raw(E / IPv6(**V6) / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) /
                            IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                            IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                            IPv6ExtHdrDestOpt() / UDP()),
    "bad-ip6-ext-trunc": raw(E / IPv6(**V6, nh=0, plen=4) / b"\x11\x00\x00\x00"),
    "bad-udp4-trunc": raw(E / IP(**V4, len=24, proto=17) / b"\x00\x01\x00\x07"),
    "bad-tcp4-trunc": raw(E / IP(**V4, proto=6) / b"\x00\x01\x00\x16\x00\x00"),
    "bad-icmp4-quote": raw(E / IP(**V4) / ICMP(type=3) / b"\x45\x00"),
    "bad-icmp6-quote": raw(E / IPv6(**V6) / ICMPv6DestUnreach() / b"\x60\x00"),
    "bad-arp-short": raw(BCAST / ARP())[:14 + 20],
    "bad-frag4-first-tiny": raw(E / IP(**V4, flags="MF", proto=17, len=22) / b"\x00\x01"),
    "empty": b"",
}
os.makedirs(OUT, exist_ok=True)
for name, f in frames.items():
    with open(os.path.join(OUT, name), "wb") as fh:
        try:
            fh.write(raw(f))
        except TypeError:
            sys.exit(f"{name}: {f!r}")
for name, b in bad.items():
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(b)
print(f"{len(frames) + len(bad)} frames in {OUT}", file=sys.stderr)
