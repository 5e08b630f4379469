#!/usr/bin/python3
# cases.py - the dataplane golden cases (DESIGN.md §3): for each, the frames that enter the switch
# (from the wire, the kernel, clients) and the frames each destination must receive, written as
# pcaps + case.json under OUTDIR for run_golden.py.
# usage: cases.py OUTDIR [NAME-SUBSTRING...]   or   cases.py --list
import struct
import sys

from cases_own_mac import OWN_MAC_CASES
from golden_case import (A4, A6, APP_MAC, BAD_MAC, P4, P6, PEER_MAC, PROTO_DCCP, PROTO_UDPLITE,
                         ROUTER4, ROUTER6, X4, X6, Case, dccp_request, eth_in, eth_out, frag4,
                         frag6, l4_bytes, truncate, udplite)
from scapy.all import ARP, GRE, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, raw
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import DHCP6_Reply
from scapy.layers.inet import IPOption_Router_Alert, IPOption_RR
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                                ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,
                                ICMPv6ND_Redirect, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr,
                                ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6ExtHdrDestOpt,
                                IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                                RouterAlert)
from scapy.layers.sctp import SCTP, SCTPChunkInit

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def udp4(c, dport, sport=5000, src=P4, dst=A4, vlan=None):
    return eth_in(vlan=vlan) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / c.mark()


def udp6(c, dport, sport=5000, src=P6, dst=A6, vlan=None):
    return eth_in(vlan=vlan) / IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / c.mark()


def syn4(c, dport, sport=40000, src=P4, dst=A4, flags="S"):
    return eth_in() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags,
                                                 seq=1000) / c.mark()


def syn6(c, dport, sport=40000, src=P6, dst=A6):
    return eth_in() / IPv6(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S",
                                                   seq=1000) / c.mark()


def patch(frame, offset, data):
    """The frame's bytes with data written at offset (to break one header field)."""
    b = bytearray(raw(frame))
    b[offset:offset + len(data)] = data
    return bytes(b)


# ---- L2, L3 and L4 basics -------------------------------------------------------------------

@case
def udp4_listen():
    c = Case("udp4_listen", "IPv4 UDP: a listened (proto, ip, port) goes to its client, the rest "
             "to the kernel (policy pass)")
    c.client("c0", "listen,udp,%s,7" % A4)
    c.wire(udp4(c, 7), "c0")
    c.wire(udp4(c, 8), "kernel")
    c.wire(udp4(c, 7, sport=5001), "c0")
    # Ethernet padding after the IP datagram: still the client's, delivered with its padding
    c.wire(raw(udp4(c, 7)) + bytes(20), "c0")
    return c


@case
def tcp_listen_any_address():
    c = Case("tcp_listen_any_address", "TCP; listen without ip = every address of the port "
             "(IPv4 and IPv6)")
    c.client("c0", "listen,tcp,*,8080")
    c.wire(syn4(c, 8080), "c0")
    c.wire(syn4(c, 8080, flags="A"), "c0")
    c.wire(syn6(c, 8080), "c0")
    c.wire(syn4(c, 22), "kernel")
    c.wire(syn6(c, 22), "kernel")
    return c


@case
def ipv4_options():
    c = Case("ipv4_options", "IPv4 with options: the L4 header is found after them")
    c.client("c0", "listen,udp,%s,7" % A4)
    c.wire(eth_in() / IP(src=P4, dst=A4, options=[IPOption_Router_Alert()]) /
           UDP(sport=5000, dport=7) / c.mark(), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4, options=[IPOption_RR(routers=["0.0.0.0"] * 9)]) /
           UDP(sport=5000, dport=7) / c.mark(), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4, options=[IPOption_Router_Alert()]) /
           UDP(sport=5000, dport=8) / c.mark(), "kernel")
    return c


@case
def vlan_tag():
    c = Case("vlan_tag", "one 802.1Q tag: rules match whatever the tag, frames keep it")
    c.client("c0", "listen,udp,*,7")
    c.wire(udp4(c, 7, vlan=100), "c0")
    c.wire(udp4(c, 8, vlan=100), "kernel")
    c.wire(udp6(c, 7, vlan=4094), "c0")
    c.wire(udp4(c, 7, vlan=0), "c0")
    c.wire(eth_in(dst="ff:ff:ff:ff:ff:ff", vlan=100) /
           ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=A4), "kernel", "c0")
    return c


@case
def udp6_listen():
    c = Case("udp6_listen", "IPv6 UDP: listen on an IPv6 address; the IPv4 address is another "
             "rule")
    c.client("c0", "listen,udp,%s,7" % A6)
    c.wire(udp6(c, 7), "c0")
    c.wire(udp6(c, 8), "kernel")
    c.wire(udp4(c, 7), "kernel")
    c.wire(udp6(c, 7, sport=5001), "c0")
    return c


@case
def ipv6_extension_headers():
    c = Case("ipv6_extension_headers", "IPv6 hop-by-hop, routing, destination options, atomic "
             "fragment headers before the L4 header; 8 headers is the bound, still accepted")
    c.client("c0", "listen,udp,%s,7" % A6)
    ip = IPv6(src=P6, dst=A6)
    for ext in (IPv6ExtHdrHopByHop(),
                IPv6ExtHdrRouting(type=0, segleft=0, addresses=[A6]),
                IPv6ExtHdrDestOpt(),
                IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(segleft=0, addresses=[A6]) /
                IPv6ExtHdrDestOpt(),
                IPv6ExtHdrFragment(offset=0, m=0, id=77)):
        c.wire(eth_in() / ip / ext / UDP(sport=5000, dport=7) / c.mark(), "c0")
    eight = IPv6ExtHdrHopByHop()
    for _ in range(7):
        eight = eight / IPv6ExtHdrDestOpt()
    c.wire(eth_in() / ip / eight / UDP(sport=5000, dport=7) / c.mark(), "c0")
    c.wire(eth_in() / ip / IPv6ExtHdrDestOpt() / TCP(sport=40000, dport=22, flags="S") /
           c.mark(), "kernel")
    return c


@case
def l4_sctp_udplite_dccp():
    c = Case("l4_sctp_udplite_dccp", "SCTP, UDP-Lite and DCCP matched by ports like UDP/TCP")
    c.client("c0", "listen,sctp,*,7001", "listen,udplite,*,7002", "listen,dccp,*,7003")
    c.wire(eth_in() / IP(src=P4, dst=A4) / SCTP(sport=5000, dport=7001) /
           SCTPChunkInit(init_tag=1), "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / SCTP(sport=5000, dport=7001) /
           SCTPChunkInit(init_tag=2), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4, proto=PROTO_UDPLITE) / udplite(5000, 7002, b"lite"),
           "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=A6, nh=PROTO_UDPLITE) / udplite(5000, 7002, b"lite6"),
           "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4, proto=PROTO_DCCP) / dccp_request(5000, 7003), "c0")
    # the same ports under another protocol are someone else's (here: the kernel's)
    c.wire(eth_in() / IP(src=P4, dst=A4) / SCTP(sport=5000, dport=7002) /
           SCTPChunkInit(init_tag=3), "kernel")
    c.wire(udp4(c, 7001), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4, proto=PROTO_DCCP) / dccp_request(5000, 7001), "kernel")
    return c


@case
def icmp_echo_identifier():
    c = Case("icmp_echo_identifier", "ICMP/ICMPv6 echo by identifier: replies with an owned id "
             "to the owner; other ids and peers' requests to the kernel")
    c.client("c0", "listen,icmp,*,4660", "listen,icmpv6,*,4660")  # id 0x1234
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=0, id=0x1234, seq=1) / c.mark(), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=0, id=0x4321, seq=1) / c.mark(), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=8, id=0x7777, seq=1) / c.mark(), "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoReply(id=0x1234, seq=1) / c.mark(), "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoReply(id=0x4321, seq=1) / c.mark(),
           "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoRequest(id=0x7777, seq=1) / c.mark(),
           "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=13, id=0x1234) / c.mark(), "kernel")
    return c


@case
def lookup_order():
    c = Case("lookup_order", "exact 5-tuple, then listening (proto, ip, port), then listening "
             "on any address, then owned IP (claim_ip), then the kernel policy")
    c.client("c0", "connect,udp,%s,9000,%s,5000" % (A4, P4), "listen,udp,%s,9000" % A4)
    c.client("c1", "listen,udp,%s,9001" % A4, "listen,udp,*,9001")
    c.client("c3", "listen,udp,%s,9003" % X4)
    c.client("c2", "claim_ip,%s" % X4)
    c.wire(udp4(c, 9000, sport=5000), "c0")               # exact
    c.wire(udp4(c, 9000, sport=5001), "c0")               # listen (ip)
    c.wire(udp4(c, 9001), "c1")                           # listen (ip) over listen (any)
    c.wire(udp6(c, 9001), "c1")                           # listen (any)
    c.wire(udp4(c, 9001, dst=X4), "c1")                   # listen (any) over owned IP
    c.wire(udp4(c, 9003, dst=X4), "c3")                   # listen (ip) over owned IP
    c.wire(udp4(c, 9004, dst=X4), "c2")                   # owned IP
    c.wire(udp4(c, 9005), "kernel")                       # nobody's
    c.expect_rule("c0", kind="connect", local_port=9000, remote_port=5000, hits=1)
    c.expect_rule("c0", kind="listen", local_ip=A4, local_port=9000, hits=1)
    c.expect_rule("c1", kind="listen", local_ip=A4, local_port=9001, hits=1)
    c.expect_rule("c1", kind="listen", local_ip="*", local_port=9001, hits=2)
    c.expect_rule("c3", kind="listen", local_ip=X4, local_port=9003, hits=1)
    c.expect_rule("c2", kind="ip", local_ip=X4, hits=1)
    return c


@case
def usnetd_protocol_match():
    c = Case("usnetd_protocol_match", "usnetd's AddMatch without dst_port: every ICMP frame to "
             "the address (a ping responder: any echo identifier, other ICMP types), GRE from "
             "one peer only; listening and claimed rules keep theirs; the rest to the kernel "
             "policy", policy="firewall", allow=["tcp:22"])
    c.client("p0", "match,1,%s" % A4)
    c.client("g0", "match,47,%s,%s" % (A4, P4))
    c.client("c0", "listen,udp,%s,7" % A4)
    c.client("c2", "claim_ip,%s" % X4)
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=8, id=1) / c.mark(), "p0")
    c.wire(eth_in() / IP(src=ROUTER4, dst=A4) / ICMP(type=8, id=4321) / c.mark(), "p0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=13) / c.mark(), "p0")  # timestamp
    c.wire(eth_in() / IP(src=P4, dst=X4) / ICMP(type=8, id=1) / c.mark(), "c2")  # not A4
    c.wire(eth_in() / IP(src=P4, dst=A4) / GRE() / c.mark(), "g0")
    c.wire(eth_in() / IP(src=ROUTER4, dst=A4) / GRE() / c.mark())  # another peer: firewall
    c.wire(udp4(c, 7), "c0")
    c.wire(syn4(c, 22), "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoRequest(id=1) / c.mark())  # not ICMP
    c.expect_drops(firewall=2)
    c.expect_rule("p0", kind="proto", local_ip=A4, hits=3)
    c.expect_rule("g0", kind="proto", local_ip=A4, remote_ip=P4, hits=1)
    return c


@case
def claim_ip():
    c = Case("claim_ip", "claim_ip: a client owns all traffic to an extra IPv4/IPv6 address "
             "(ARP for it is still mirrored)")
    c.client("c0", "claim_ip,%s" % X4, "claim_ip,%s" % X6)
    c.wire(udp4(c, 53, dst=X4), "c0")
    c.wire(syn4(c, 80, dst=X4), "c0")
    c.wire(eth_in() / IP(src=P4, dst=X4) / ICMP(type=8, id=9, seq=1) / c.mark(), "c0")
    c.wire(eth_in() / IP(src=P4, dst=X4) / GRE() / c.mark(), "c0")
    c.wire(udp6(c, 53, dst=X6), "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=X6) / ICMPv6EchoRequest(id=9) / c.mark(), "c0")
    c.wire(udp4(c, 53), "kernel")
    c.wire(eth_in(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=X4),
           "kernel", "c0")
    return c


# ---- copies to the kernel and every client ---------------------------------------------------

@case
def arp_mirror():
    c = Case("arp_mirror", "ARP (request, reply, gratuitous): a copy to the kernel and to every "
             "client of the port")
    c.client("c0", "listen,udp,*,7")
    c.client("c1", "listen,udp,*,8")
    c.wire(eth_in(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=A4),
           "kernel", "c0", "c1")
    c.wire(eth_in() / ARP(op=2, hwsrc=PEER_MAC, psrc=P4, hwdst=APP_MAC, pdst=A4),
           "kernel", "c0", "c1")
    c.wire(eth_in(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=P4),
           "kernel", "c0", "c1")
    c.wire(udp4(c, 7), "c0")
    return c


@case
def ipv6_nd_mirror():
    c = Case("ipv6_nd_mirror", "IPv6 ND (RS, RA, NS, NA, redirect): a copy to the kernel and to "
             "every client")
    c.client("c0", "listen,udp,*,7")
    c.client("c1", "listen,udp,*,8")
    ll = "fe80::2"
    sol = "ff02::1:ff00:1"
    frames = [
        Ether(src=PEER_MAC, dst="33:33:00:00:00:02") / IPv6(src=ll, dst="ff02::2", hlim=255) /
        ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC),
        Ether(src=PEER_MAC, dst="33:33:00:00:00:01") / IPv6(src=ll, dst="ff02::1", hlim=255) /
        ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC),
        Ether(src=PEER_MAC, dst="33:33:ff:00:00:01") / IPv6(src=P6, dst=sol, hlim=255) /
        ICMPv6ND_NS(tgt=A6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC),
        eth_in() / IPv6(src=P6, dst=A6, hlim=255) / ICMPv6ND_NA(tgt=P6, R=0, S=1, O=1),
        eth_in() / IPv6(src=ll, dst=A6, hlim=255) / ICMPv6ND_Redirect(tgt="fd00::3", dst=P6),
    ]
    for f in frames:
        c.wire(f, "kernel", "c0", "c1")
    return c


@case
def broadcast_multicast():
    c = Case("broadcast_multicast", "broadcast and multicast (DHCP, mDNS, MLD): a copy to the "
             "kernel and to every client, whatever the rules")
    c.client("c0", "listen,udp,*,5353")
    c.client("c1", "listen,udp,*,9")
    bcast = Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff")
    c.wire(bcast / IP(src=P4, dst="255.255.255.255") / UDP(sport=67, dport=68) /
           BOOTP(op=2, yiaddr=A4, chaddr=bytes.fromhex("020000000001")) /
           DHCP(options=[("message-type", "offer"), "end"]), "kernel", "c0", "c1")
    c.wire(bcast / IP(src=P4, dst="198.18.0.255") / UDP(sport=5000, dport=9) / c.mark(),
           "kernel", "c0", "c1")
    c.wire(Ether(src=PEER_MAC, dst="01:00:5e:00:00:fb") / IP(src=P4, dst="224.0.0.251") /
           UDP(sport=5353, dport=5353) / c.mark(), "kernel", "c0", "c1")
    c.wire(Ether(src=PEER_MAC, dst="33:33:00:00:00:fb") / IPv6(src=P6, dst="ff02::fb") /
           UDP(sport=5353, dport=5353) / c.mark(), "kernel", "c0", "c1")
    c.wire(Ether(src=PEER_MAC, dst="33:33:00:00:00:16") /
           IPv6(src="fe80::2", dst="ff02::16", hlim=1) /
           IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport2(), "kernel", "c0", "c1")
    return c


@case
def eapol_mirror():
    c = Case("eapol_mirror", "EAPOL (802.1X, 0x888e): a copy to the kernel and to every client, "
             "as ARP, whatever the kernel policy; other non-IP frames stay behind the firewall",
             policy="firewall")
    c.client("c0", "listen,udp,*,7")
    c.client("c1", "listen,udp,*,8")
    pae = "01:80:c2:00:00:03"  # the 802.1X PAE group address
    c.wire(Ether(src=PEER_MAC, dst=pae, type=0x888e) / Raw(load=b"\x02\x00\x00\x05" +
           b"\x01\x01\x00\x05\x01"), "kernel", "c0", "c1")  # EAP-Request/Identity
    c.wire(Ether(src=PEER_MAC, dst=APP_MAC, type=0x888e) / Raw(load=b"\x02\x03\x00\x5f" +
           bytes(95)), "kernel", "c0", "c1")  # EAPOL-Key to the port's MAC
    c.wire(Ether(src=PEER_MAC, dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(load=b"\x02\x07" +
           b"\x04" + bytes(6)))  # LLDP: the firewall's
    c.wire(udp4(c, 7), "c0")
    c.expect_drops(firewall=1)
    return c


# ---- ICMP errors -----------------------------------------------------------------------------

@case
def icmp_errors_v4():
    c = Case("icmp_errors_v4", "ICMP errors go to the owner of the flow they quote (unowned: "
             "the kernel)")
    c.client("c0", "listen,udp,%s,9000" % A4, "listen,tcp,*,8080", "listen,icmp,*,4660")
    out_udp = IP(src=A4, dst=P4, id=1) / UDP(sport=9000, dport=5000) / Raw(load=b"request")
    ping = IP(src=A4, dst="198.51.100.7", id=5, ttl=1) / ICMP(type=8, id=0x1234, seq=3)
    out_tcp = IP(src=A4, dst=P4, id=2, flags="DF") / TCP(sport=8080, dport=40000, flags="SA")
    far = IP(src=A4, dst="198.51.100.7", id=3) / UDP(sport=9000, dport=53) / Raw(load=b"q")
    other = IP(src=A4, dst=P4, id=4) / UDP(sport=9999, dport=5000) / Raw(load=b"x")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) / out_udp, "c0")
    c.wire(eth_in() / IP(src=ROUTER4, dst=A4) / ICMP(type=11, code=0) / far, "c0")
    c.wire(eth_in() / IP(src=ROUTER4, dst=A4) / ICMP(type=3, code=4, nexthopmtu=1400) /
           Raw(load=raw(out_tcp)[:28]), "c0")   # only IP header + 8 bytes quoted (RFC 792)
    c.wire(eth_in() / IP(src=ROUTER4, dst=A4) / ICMP(type=11, code=0) / ping, "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) / other, "kernel")
    return c


@case
def icmp_errors_v6():
    c = Case("icmp_errors_v6", "ICMPv6 errors go to the owner of the flow they quote")
    c.client("c0", "listen,udp,%s,9000" % A6)
    out_udp = IPv6(src=A6, dst=P6) / UDP(sport=9000, dport=5000) / Raw(load=b"request")
    other = IPv6(src=A6, dst=P6) / UDP(sport=9999, dport=5000) / Raw(load=b"x")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6DestUnreach(code=4) / out_udp, "c0")
    c.wire(eth_in() / IPv6(src=ROUTER6, dst=A6) / ICMPv6PacketTooBig(mtu=1280) / out_udp, "c0")
    c.wire(eth_in() / IPv6(src=ROUTER6, dst=A6) / ICMPv6TimeExceeded() / out_udp, "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6DestUnreach(code=4) / other, "kernel")
    return c


# ---- fragments -------------------------------------------------------------------------------

def filler(c, size):
    """size bytes of payload naming the case."""
    return Raw(load=((b"%s " % c.name.encode()) * size)[:size])


def datagram4(c, dport, size=1200):
    """The UDP header + payload of a datagram to A4:dport, to be cut into fragments."""
    return l4_bytes(IP(src=P4, dst=A4), UDP(sport=5000, dport=dport) / filler(c, size))


def datagram6(c, dport, size=1200):
    return l4_bytes(IPv6(src=P6, dst=A6), UDP(sport=5000, dport=dport) / filler(c, size))


@case
def fragments_v4():
    c = Case("fragments_v4", "IPv4 fragments: the first decides (by its ports), later ones "
             "follow it; two datagrams interleaved")
    c.client("c0", "listen,udp,%s,9000" % A4)
    mine = frag4(eth_in(), P4, A4, 17, datagram4(c, 9000), 0x1001, [512, 512])
    kern = frag4(eth_in(), P4, A4, 17, datagram4(c, 9001), 0x1002, [512, 512])
    for a, b in zip(mine, kern):
        c.wire(a, "c0")
        c.wire(b, "kernel")
    return c


@case
def fragments_v6():
    c = Case("fragments_v6", "IPv6 fragments (fragment header): the first decides, later ones "
             "follow it")
    c.client("c0", "listen,udp,%s,9000" % A6)
    mine = frag6(eth_in(), P6, A6, 17, datagram6(c, 9000), 0x2001, [512, 512])
    kern = frag6(eth_in(), P6, A6, 17, datagram6(c, 9001), 0x2002, [512, 512])
    for a, b in zip(mine, kern):
        c.wire(a, "c0")
        c.wire(b, "kernel")
    return c


@case
def fragments_out_of_order():
    c = Case("fragments_out_of_order", "later fragments before their first are held, then "
             "released to the first fragment's owner (v4 and v6)", ordered=False)
    c.client("c0", "listen,udp,%s,9000" % A4, "listen,udp,%s,9000" % A6)
    for f in frag4(eth_in(), P4, A4, 17, datagram4(c, 9000), 0x3001, [512, 512], [2, 1, 0]):
        c.wire(f, "c0")
    for f in frag4(eth_in(), P4, A4, 17, datagram4(c, 9001), 0x3002, [512, 512], [1, 0, 2]):
        c.wire(f, "kernel")
    for f in frag6(eth_in(), P6, A6, 17, datagram6(c, 9000), 0x3003, [512, 512], [2, 0, 1]):
        c.wire(f, "c0")
    return c


@case
def fragments_unknown():
    c = Case("fragments_unknown", "later fragments whose first never comes: held within a "
             "bound, then dropped and counted frag_unknown")
    c.client("c0", "listen,udp,%s,9000" % A4)
    n = 0
    for ident in range(0x4000, 0x4000 + 70):     # more than any sane hold bound
        c.wire(frag4(eth_in(), P4, A4, 17, datagram4(c, 9000), ident, [512, 512])[1])
        n += 1
    c.wire(frag6(eth_in(), P6, A6, 17, datagram6(c, 9000), 0x5000, [512, 512])[2])
    n += 1
    c.wire(udp4(c, 9000), "c0")
    c.expect_drops(frag_unknown=n)
    return c


# ---- kernel policy ---------------------------------------------------------------------------

@case
def kernel_policy_pass():
    c = Case("kernel_policy_pass", "policy pass: whatever no client owns goes to the kernel "
             "(UDP, TCP, ICMP, GRE, IPv6, non-IP)")
    c.client("c0", "listen,udp,*,7")
    c.wire(udp4(c, 53), "kernel")
    c.wire(syn4(c, 2222), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=8, id=1) / c.mark(), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / GRE() / c.mark(), "kernel")
    c.wire(udp6(c, 53), "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoRequest(id=1) / c.mark(), "kernel")
    c.wire(Ether(src=PEER_MAC, dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(load=b"\x02\x07" +
           b"\x04" + bytes(6)), "kernel")   # LLDP
    c.wire(udp4(c, 7), "c0")
    return c


@case
def kernel_policy_firewall():
    c = Case("kernel_policy_firewall", "policy firewall: the kernel gets the allow list, ARP, "
             "ND, DHCP; the rest is dropped and counted (clients unaffected, multicast to "
             "clients only)", policy="firewall")
    c.client("c0", "listen,udp,*,7")
    c.wire(syn4(c, 22), "kernel")
    c.wire(syn6(c, 22), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=8, id=1) / c.mark(), "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6EchoRequest(id=1) / c.mark(), "kernel")
    c.wire(eth_in(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=A4),
           "kernel", "c0")
    c.wire(Ether(src=PEER_MAC, dst="33:33:ff:00:00:01") /
           IPv6(src=P6, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=A6) /
           ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC), "kernel", "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=67, dport=68) /
           BOOTP(op=2, yiaddr=A4) / DHCP(options=[("message-type", "ack"), "end"]), "kernel")
    c.wire(eth_in() / IPv6(src="fe80::2", dst="fe80::1") / UDP(sport=547, dport=546) /
           DHCP6_Reply(), "kernel")
    c.wire(udp4(c, 7), "c0")
    c.wire(syn4(c, 2222))
    c.wire(syn6(c, 2222))
    c.wire(udp4(c, 53))
    c.wire(udp6(c, 53))
    c.wire(eth_in() / IP(src=P4, dst=A4) / GRE() / c.mark())
    # multicast still reaches the clients; the kernel's copy is a firewall drop
    c.wire(Ether(src=PEER_MAC, dst="01:00:5e:00:00:fb") / IP(src=P4, dst="224.0.0.251") /
           UDP(sport=5353, dport=5353) / c.mark(), "c0")
    c.expect_drops(firewall=6)
    return c


@case
def kernel_policy_firewall_kernel_connections():
    c = Case("kernel_policy_firewall_kernel_connections", "policy firewall: replies to the "
             "connections the kernel opened pass (learned from its TX), incl. ICMP errors about "
             "them; replies to nothing are dropped", policy="firewall", allow=["tcp:22"])
    syn = eth_out() / IP(src=A4, dst=P4) / TCP(sport=40000, dport=80, flags="S", seq=1)
    dns = eth_out() / IP(src=A4, dst=P4) / UDP(sport=40001, dport=53) / Raw(load=b"query")
    ping = eth_out() / IP(src=A4, dst=P4) / ICMP(type=8, id=0x4242, seq=1)
    syn6_ = eth_out() / IPv6(src=A6, dst=P6) / TCP(sport=40000, dport=80, flags="S", seq=1)
    for f in (syn, dns, ping, syn6_):
        c.kernel_tx(f, "wire")
    c.wire(syn4(c, 40000, sport=80, flags="SA"), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=40001) / c.mark(), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=0, id=0x4242, seq=1) / c.mark(), "kernel")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / TCP(sport=80, dport=40000, flags="SA") / c.mark(),
           "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) /
           IP(src=A4, dst=P4) / UDP(sport=40001, dport=53) / Raw(load=b"query"), "kernel")
    c.wire(syn4(c, 40002, sport=80, flags="SA"))                                  # never opened
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=40003) / c.mark())  # never opened
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=0, id=0x4343, seq=1) / c.mark())
    c.expect_drops(firewall=3)
    return c


@case
def kernel_policy_switch_at_runtime():
    c = Case("kernel_policy_switch_at_runtime", "set_kernel_policy switches pass <-> firewall "
             "while running")
    c.wire(syn4(c, 2222, sport=40001), "kernel")
    c.ctl({"cmd": "set_kernel_policy", "policy": "firewall"})
    c.wire(syn4(c, 2222, sport=40002))
    c.wire(syn4(c, 22, sport=40003), "kernel")
    c.ctl({"cmd": "set_kernel_policy", "policy": "pass"})
    c.wire(syn4(c, 2222, sport=40004), "kernel")
    c.expect_drops(firewall=1)
    return c


# ---- client TX -------------------------------------------------------------------------------

def udp_out(c, sport, dport=5000, src=A4, dst=P4, smac=APP_MAC, dmac=PEER_MAC):
    return Ether(src=smac, dst=dmac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / \
        c.mark()


@case
def client_tx_anti_spoofing():
    c = Case("client_tx_anti_spoofing", "client TX leaves only with the port's MAC and an IP and "
             "port the client owns; the rest is dropped, counted spoofed (malformed: malformed)")
    c.client("c0", "listen,udp,%s,9000" % A4)
    c.client("c1", "listen,udp,%s,9100" % A4)
    c.client("c2", "claim_ip,%s" % X4)
    c.client_tx("c0", udp_out(c, 9000), "wire")
    c.client_tx("c0", udp_out(c, 9000, smac=BAD_MAC))                 # not the port's MAC
    c.client_tx("c0", udp_out(c, 9100))                              # c1's port
    c.client_tx("c0", udp_out(c, 9000, src="198.18.0.99"))           # not our address
    c.client_tx("c0", udp_out(c, 9000, src=X4))                      # c2's address
    c.client_tx("c0", Ether(src=APP_MAC, dst=PEER_MAC, type=0x88b5) / Raw(load=b"raw"))
    c.client_tx("c0", Ether(src=APP_MAC, dst=PEER_MAC) /
                ARP(op=2, hwsrc=BAD_MAC, psrc=A4, hwdst=PEER_MAC, pdst=P4))  # lies in ARP
    c.client_tx("c0", Ether(src=APP_MAC, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=APP_MAC, psrc=A4, pdst=P4), "wire")
    c.client_tx("c0", truncate(udp_out(c, 9000), 30))                # malformed
    c.client_tx("c0", udp_out(c, 9000, dport=5001), "wire")
    c.expect_drops(spoofed=6, malformed=1)
    c.expect_client("c0", spoofed=6)
    c.expect_client("c1", spoofed=0)
    return c


@case
def client_tx_learning():
    c = Case("client_tx_learning", "an outgoing connection from a free local port is learned as "
             "the client's: the replies come back to it")
    c.client("c0")
    c.client_tx("c0", Ether(src=APP_MAC, dst=PEER_MAC) / IP(src=A4, dst=P4) /
                TCP(sport=41000, dport=80, flags="S", seq=7), "wire")
    c.client_tx("c0", udp_out(c, 41001, dport=53), "wire")
    c.client_tx("c0", Ether(src=APP_MAC, dst=PEER_MAC) / IPv6(src=A6, dst=P6) /
                UDP(sport=41002, dport=53) / c.mark(), "wire")
    c.wire(syn4(c, 41000, sport=80, flags="SA"), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=41001) / c.mark(), "c0")
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / UDP(sport=53, dport=41002) / c.mark(), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=41003) / c.mark(), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=54, dport=41001) / c.mark(), "kernel")
    c.expect_rule("c0", kind="connect", origin="learned", proto="tcp", local_port=41000,
                  remote_port=80)
    c.expect_rule("c0", kind="connect", origin="learned", proto="udp", local_port=41001,
                  remote_port=53)
    return c


@case
def client_tx_never_steals():
    c = Case("client_tx_never_steals", "learning never takes a port of another client or of the "
             "kernel: such frames are spoofed, the replies keep their owner")
    c.kernel_socket("tcp:42000")
    c.kernel_socket("udp:42001")
    c.client("c1", "listen,udp,*,41005")
    c.client("c0")
    c.client_tx("c0", udp_out(c, 41005, dport=53))
    c.client_tx("c0", Ether(src=APP_MAC, dst=PEER_MAC) / IP(src=A4, dst=P4) /
                TCP(sport=42000, dport=80, flags="S"))
    c.client_tx("c0", udp_out(c, 42001, dport=53))
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=41005) / c.mark(), "c1")
    c.wire(syn4(c, 42000, sport=80, flags="SA"), "kernel")
    c.wire(eth_in() / IP(src=P4, dst=A4) / UDP(sport=53, dport=42001) / c.mark(), "kernel")
    c.expect_drops(spoofed=3)
    c.expect_client("c0", spoofed=3)
    return c


@case
def client_tx_local_delivery():
    c = Case("client_tx_local_delivery", "client frames to the appliance's own addresses are "
             "delivered locally (kernel or owning client), not put on the wire")
    c.client("c0", "listen,udp,%s,9000" % A4, "listen,tcp,*,8080", "listen,udp,%s,9000" % A6)
    c.client("c1", "listen,udp,%s,9100" % A4)
    c.client("c2", "claim_ip,%s" % X4)
    c.client_tx("c0", udp_out(c, 9000, dport=53, dst=A4, dmac=APP_MAC), "kernel")
    c.client_tx("c0", udp_out(c, 9000, dport=9100, dst=A4, dmac=APP_MAC), "c1")
    c.client_tx("c0", udp_out(c, 9000, dport=7, dst=X4, dmac=APP_MAC), "c2")
    c.client_tx("c0", Ether(src=APP_MAC, dst=APP_MAC) / IP(src=A4, dst=A4) /
                TCP(sport=8080, dport=22, flags="S") / c.mark(), "kernel")
    c.client_tx("c0", Ether(src=APP_MAC, dst=APP_MAC) / IPv6(src=A6, dst=A6) /
                UDP(sport=9000, dport=53) / c.mark(), "kernel")
    c.client_tx("c0", udp_out(c, 9000), "wire")
    return c


# ---- drop reasons of the delivery itself ----------------------------------------------------

@case
def no_kernel_path():
    c = Case("no_kernel_path", "without a kernel path (exception type none) unowned traffic is "
             "dropped and counted no_route; clients keep theirs", kernel_path=False)
    c.client("c0", "listen,udp,*,7")
    c.wire(udp4(c, 8))
    c.wire(syn6(c, 22))
    c.wire(udp4(c, 7), "c0")
    c.expect_drops(no_route=2)
    return c


@case
def client_ring_full():
    c = Case("client_ring_full", "a client that does not read: its RX ring (64 slots, 63 usable "
             "in an rte_ring) fills, the rest is dropped and counted ring_full", ring_size=64)
    c.client("c0", "listen,udp,*,7", paused=True)
    for i in range(70):
        c.wire(udp4(c, 7, sport=10000 + i), "c0" if i < 63 else None)
    c.expect_drops(ring_full=7)
    c.expect_client("c0", ring_full=7)
    return c


@case
def config_rules():
    c = Case("config_rules", "rules of the config file: c0's (it attaches under that name and "
             "adds no rule) deliver to it; those of a client that is not attached drop whole "
             "datagrams as owner_absent, never to the kernel",
             config_rules=[
                 {"kind": "listen", "proto": "udp", "local_port": 53, "owner": "c0"},
                 {"kind": "connect", "proto": "tcp", "local_ip": A4, "local_port": 40000,
                  "remote_ip": P4, "remote_port": 80, "owner": "c0"},
                 {"kind": "listen", "proto": "udp", "local_ip": A6, "local_port": 54,
                  "owner": "away"}])
    c.client("c0")
    c.wire(udp4(c, 53), "c0")
    c.wire(udp6(c, 53, sport=5001), "c0")
    c.wire(eth_in() / IP(src=P4, dst=A4) / TCP(sport=80, dport=40000, flags="SA") / c.mark(),
           "c0")
    c.wire(syn4(c, 40000, sport=81), "kernel")  # another remote end: not the rule's
    c.wire(udp6(c, 54))
    c.wire(udp4(c, 54), "kernel")  # the rule is for the IPv6 address only
    for f in frag6(eth_in(), P6, A6, 17, datagram6(c, 54), 0x2003, [512, 512]):
        c.wire(f)
    c.expect_drops(owner_absent=4)
    return c


# ---- hostile frames --------------------------------------------------------------------------

@case
def hostile_truncated():
    c = Case("hostile_truncated", "frames truncated at every layer (Ethernet/VLAN, IPv4, IPv6, "
             "UDP, TCP, SCTP, ICMP, ARP) are malformed, never delivered")
    c.client("c0", "listen,udp,*,7", "listen,tcp,*,8080", "listen,sctp,*,7001")
    # (frames shorter than an Ethernet header cannot be sent through a TAP: the kernel pads
    # them to 14 bytes; the parser's unit tests cover those)
    eth = raw(eth_in())[:12]
    c.wire(eth + b"\x08\x00")                                         # Ethernet only
    c.wire(eth + b"\x81\x00\x00\x05")                                 # VLAN tag cut
    c.wire(eth + b"\x81\x00\x00\x05\x08")                             # VLAN ethertype cut
    c.wire(truncate(udp4(c, 7, vlan=5), 20))                           # VLAN, IPv4 cut at 2
    c.wire(truncate(udp4(c, 7), 14 + 12))                              # IPv4 header cut
    c.wire(truncate(udp6(c, 7), 14 + 30))                              # IPv6 header cut
    for frame, keep in ((udp4(c, 7), 20 + 4), (syn4(c, 8080), 20 + 12),
                        (eth_in() / IP(src=P4, dst=A4) / SCTP(sport=1, dport=7001), 20 + 8),
                        (eth_in() / IP(src=P4, dst=A4) / ICMP(type=8, id=1), 20 + 4),
                        (udp6(c, 7), 40 + 6)):
        cut = bytearray(truncate(frame, 14 + keep))
        if cut[12:14] == b"\x08\x00":                                  # fix the IP length
            cut[16:18] = struct.pack("!H", keep)
        else:
            cut[18:20] = struct.pack("!H", keep - 40)
        c.wire(bytes(cut))
    c.wire(truncate(eth_in(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=A4), 14 + 20))  # ARP cut
    c.wire(udp4(c, 7), "c0")                                           # still alive
    c.expect_drops(malformed=12)
    return c


@case
def hostile_ip_headers():
    c = Case("hostile_ip_headers", "IHL < 5, IHL beyond the frame, wrong versions, total / "
             "payload length beyond the frame or below the header: malformed")
    c.client("c0", "listen,udp,*,7")
    v4, v6 = udp4(c, 7), udp6(c, 7)
    c.wire(patch(v4, 14, b"\x44"))                                     # IHL 4
    c.wire(patch(v4, 14, b"\x40"))                                     # IHL 0
    c.wire(patch(v4, 14, b"\x4f"))                                     # IHL 15 > frame
    c.wire(patch(v4, 14, b"\x65"))                                     # version 6 in IPv4
    c.wire(patch(v4, 16, struct.pack("!H", 1000)))                     # total beyond frame
    c.wire(patch(v4, 16, struct.pack("!H", 12)))                       # total below header
    c.wire(patch(v6, 18, struct.pack("!H", 500)))                      # payload beyond frame
    c.wire(patch(v6, 14, b"\x40"))                                     # version 4 in IPv6
    c.wire(v4, "c0")
    c.expect_drops(malformed=8)
    return c


@case
def hostile_ipv6_chains():
    c = Case("hostile_ipv6_chains", "IPv6 extension chains longer than 8 headers, never ending, "
             "or with a header beyond the payload: malformed")
    c.client("c0", "listen,udp,*,7")
    ip = IPv6(src=P6, dst=A6)

    def chain(n):
        h = IPv6ExtHdrDestOpt()
        for _ in range(n - 1):
            h = h / IPv6ExtHdrDestOpt()
        return h

    c.wire(eth_in() / ip / chain(9) / UDP(sport=5000, dport=7) / c.mark())
    c.wire(eth_in() / ip / chain(60) / UDP(sport=5000, dport=7) / c.mark())
    # destination options pointing at more destination options until the packet ends
    c.wire(eth_in() / ip / chain(3) / IPv6ExtHdrDestOpt(nh=60))
    c.wire(eth_in() / ip / IPv6ExtHdrHopByHop(len=10, autopad=0) / Raw(load=bytes(8)))
    c.wire(eth_in() / ip / chain(8) / UDP(sport=5000, dport=7) / c.mark(), "c0")
    c.expect_drops(malformed=4)
    return c


@case
def hostile_fragments():
    c = Case("hostile_fragments", "tiny first fragments (no room for ports), overlapping "
             "fragments rewriting the TCP header, fragments beyond 64 KiB: dropped, counted")
    c.client("c0", "listen,udp,*,9000", "listen,tcp,*,8080")
    e = eth_in()
    c.wire(e / IP(src=P4, dst=A4, id=0x6001, proto=17, flags="MF") / Raw(load=b""))
    c.wire(e / IP(src=P4, dst=A4, id=0x6002, proto=17, flags="MF") / Raw(load=b"\x13"))
    c.wire(e / IPv6(src=P6, dst=A6) / IPv6ExtHdrFragment(nh=17, m=1, id=0x6003) /
           Raw(load=b"\x13\x88"))
    tcp = l4_bytes(IP(src=P4, dst=A4), TCP(sport=40000, dport=8080, flags="S") /
                   Raw(load=b"x" * 16))
    c.wire(e / IP(src=P4, dst=A4, id=0x6004, proto=6, flags="MF") / Raw(load=tcp[:16]), "c0")
    # offset 8: rewrites the TCP flags of the first fragment (RFC 1858)
    c.wire(e / IP(src=P4, dst=A4, id=0x6004, proto=6, frag=1) / Raw(load=tcp[8:]))
    # a datagram whose last fragment ends beyond 64 KiB (ping of death), after a good first
    big = datagram4(c, 9000, 64)
    c.wire(e / IP(src=P4, dst=A4, id=0x6005, proto=17, flags="MF") / Raw(load=big[:16]), "c0")
    c.wire(e / IP(src=P4, dst=A4, id=0x6005, proto=17, frag=8189) / Raw(load=b"y" * 64))
    c.wire(udp4(c, 9000), "c0")
    c.expect_drops(malformed=5)
    return c


@case
def hostile_icmp_quotes():
    c = Case("hostile_icmp_quotes", "ICMP/ICMPv6 errors quoting nothing, a cut header, or too "
             "little L4: malformed, never delivered")
    c.client("c0", "listen,udp,*,9000")
    out4 = raw(IP(src=A4, dst=P4) / UDP(sport=9000, dport=5000) / Raw(load=b"request"))
    out6 = raw(IPv6(src=A6, dst=P6) / UDP(sport=9000, dport=5000) / Raw(load=b"request"))
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3))
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) / Raw(load=out4[:10]))
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=11) / Raw(load=out4[:24]))
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6DestUnreach(code=4))
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6DestUnreach(code=4) / Raw(load=out6[:30]))
    c.wire(eth_in() / IPv6(src=P6, dst=A6) / ICMPv6PacketTooBig() / Raw(load=out6[:44]))
    c.wire(eth_in() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) / Raw(load=out4), "c0")
    c.expect_drops(malformed=6)
    return c


@case
def hostile_client_tx():
    c = Case("hostile_client_tx", "a client sending garbage and a flood of spoofed frames: all "
             "counted, the daemon and the client's own traffic unaffected")
    c.client("c0", "listen,udp,%s,9000" % A4)
    for i in range(200):
        c.client_tx("c0", udp_out(c, 9000, src="198.18.0.%d" % (100 + i % 100)))
    for n in (14, 20, 34, 41):
        c.client_tx("c0", truncate(udp_out(c, 9000), n))
    c.client_tx("c0", udp_out(c, 9000), "wire")
    c.expect_drops(spoofed=200, malformed=4)
    c.expect_client("c0", spoofed=200)
    return c


CASES += OWN_MAC_CASES  # clients with a MAC of their own (cases_own_mac.py)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: cases.py OUTDIR|--list [NAME-SUBSTRING...]\n")
        return 2
    if argv[1] == "--list":
        for make in CASES:
            c = make()
            print("%-44s %s" % (c.name, c.covers))
        return 0
    picked = [f for f in CASES if len(argv) == 2 or any(s in f.__name__ for s in argv[2:])]
    for make in picked:
        print(make().write(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
