# cases_own_mac.py - golden cases of clients with a MAC of their own (hello "mac", "addresses"):
# frames to that MAC go to the client before any rule, it gets the copies of ARP/ND/broadcasts,
# it may send from its MAC only with its own addresses, and frames between it, the kernel and
# other clients stay inside the appliance. cases.py adds them to its list.
from golden_case import (A4, A6, APP_MAC, BAD_MAC, P4, P6, PEER_MAC, X4, X6, Case, eth_in,
                         truncate)
from scapy.all import ARP, IP, TCP, UDP, Ether, IPv6, Raw
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr

OWN_MAC, OWN_MAC2 = "02:00:00:00:00:10", "02:00:00:00:00:11"
X4B = "198.18.0.11"  # the second own-MAC client's address
X4C = "198.18.0.12"  # an address by DHCP
BCAST = "ff:ff:ff:ff:ff:ff"


def udp(c, src, dst, smac, dmac, sport=5000, dport=7):
    ip = IP(src=src, dst=dst) if ":" not in src else IPv6(src=src, dst=dst)
    return Ether(src=smac, dst=dmac) / ip / UDP(sport=sport, dport=dport) / c.mark()


def own_mac_rx():
    c = Case("own_mac_rx", "wire -> a client with a MAC of its own: every frame to its MAC is its "
             "(before the rules; the kernel gets none), ARP/ND copies reach it too")
    c.client("c0", "listen,udp,*,7")
    c.client("m0", mac=OWN_MAC, addresses=[X4, X6])
    c.wire(udp(c, P4, X4, PEER_MAC, OWN_MAC), "m0")
    c.wire(udp(c, P6, X6, PEER_MAC, OWN_MAC), "m0")
    c.wire(udp(c, P4, A4, PEER_MAC, OWN_MAC), "m0")          # c0's rule, but m0's MAC
    c.wire(eth_in(dst=OWN_MAC) / IP(src=P4, dst=X4) / TCP(sport=40000, dport=22, flags="S") /
           c.mark(), "m0")                                   # :22 is the kernel's only at A4
    c.wire(eth_in(dst=OWN_MAC) / ARP(op=2, hwsrc=PEER_MAC, psrc=P4, hwdst=OWN_MAC, pdst=X4),
           "m0")
    c.wire(eth_in(dst=BCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=P4, pdst=X4), "kernel", "c0", "m0")
    c.wire(Ether(src=PEER_MAC, dst="33:33:ff:00:00:10") /
           IPv6(src=P6, dst="ff02::1:ff00:10", hlim=255) / ICMPv6ND_NS(tgt=X6) /
           ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC), "kernel", "c0", "m0")
    c.wire(udp(c, P4, A4, PEER_MAC, APP_MAC), "c0")          # the port's MAC: rules as ever
    c.wire(udp(c, P4, X4, PEER_MAC, APP_MAC, dport=9), "kernel")
    c.wire(truncate(udp(c, P4, X4, PEER_MAC, OWN_MAC), 30))   # malformed: never delivered
    c.expect_drops(malformed=1)
    return c


def own_mac_tx_anti_spoofing():
    c = Case("own_mac_tx_anti_spoofing", "a client with a MAC of its own sends from it only with "
             "its own addresses (ARP too); every other MAC/IP pair is spoofed")
    c.client("c0", "listen,udp,%s,9000" % A4)
    c.client("m0", mac=OWN_MAC, addresses=[X4, X6])
    c.client_tx("m0", udp(c, X4, P4, OWN_MAC, PEER_MAC), "wire")
    c.client_tx("m0", udp(c, X6, P6, OWN_MAC, PEER_MAC), "wire")
    c.client_tx("m0", udp(c, A4, P4, OWN_MAC, PEER_MAC))          # the kernel's address
    c.client_tx("m0", udp(c, X4B, P4, OWN_MAC, PEER_MAC))         # an address it did not declare
    c.client_tx("m0", udp(c, X4, P4, APP_MAC, PEER_MAC))          # its address, the port's MAC
    c.client_tx("m0", udp(c, X4, P4, BAD_MAC, PEER_MAC))          # its address, another MAC
    c.client_tx("m0", Ether(src=OWN_MAC, dst=PEER_MAC) /
                ARP(op=2, hwsrc=OWN_MAC, psrc=X4, hwdst=PEER_MAC, pdst=P4), "wire")
    c.client_tx("m0", Ether(src=OWN_MAC, dst=BCAST) /       # an RFC 5227 probe: as a host's
                ARP(op=1, hwsrc=OWN_MAC, psrc="0.0.0.0", pdst=X4), "wire", "kernel", "c0")
    c.client_tx("m0", Ether(src=OWN_MAC, dst=PEER_MAC) /
                ARP(op=2, hwsrc=OWN_MAC, psrc=A4, hwdst=PEER_MAC, pdst=P4))  # claims A4
    c.client_tx("m0", Ether(src=OWN_MAC, dst=PEER_MAC) /
                ARP(op=2, hwsrc=BAD_MAC, psrc=X4, hwdst=PEER_MAC, pdst=P4))  # another MAC
    c.client_tx("m0", Ether(src=OWN_MAC, dst=PEER_MAC, type=0x88b5) / Raw(load=b"raw"))
    c.client_tx("c0", udp(c, X4, P4, OWN_MAC, PEER_MAC, sport=9000))  # not c0's MAC
    c.client_tx("c0", udp(c, A4, P4, APP_MAC, PEER_MAC, sport=9000), "wire")
    c.expect_drops(spoofed=8)
    c.expect_client("m0", spoofed=7)
    c.expect_client("c0", spoofed=1)
    return c


def own_mac_local():
    c = Case("own_mac_local", "inside the appliance: the kernel and other clients reach a client "
             "with a MAC of its own by its MAC (their broadcasts copied to it); what it sends is "
             "handled as a wire host's (its ARP/ND and broadcasts reach the kernel and the other "
             "clients)")
    c.client("c0", "listen,udp,%s,9000" % A4)
    c.client("m0", mac=OWN_MAC, addresses=[X4, X6])
    c.client("m1", mac=OWN_MAC2, addresses=[X4B])
    # the kernel and a shared-MAC client resolve and reach m0
    c.kernel_tx(Ether(src=APP_MAC, dst=BCAST) / ARP(op=1, hwsrc=APP_MAC, psrc=A4, pdst=X4),
                "wire", "m0", "m1")
    c.kernel_tx(udp(c, A4, X4, APP_MAC, OWN_MAC, dport=80), "m0")
    c.client_tx("c0", Ether(src=APP_MAC, dst=BCAST) / ARP(op=1, hwsrc=APP_MAC, psrc=A4, pdst=X4),
                "wire", "m0", "m1")
    c.client_tx("c0", udp(c, A4, X4, APP_MAC, OWN_MAC, sport=9000), "m0")
    # m0 answers and talks to them as a host on the wire would
    c.client_tx("m0", Ether(src=OWN_MAC, dst=APP_MAC) /
                ARP(op=2, hwsrc=OWN_MAC, psrc=X4, hwdst=APP_MAC, pdst=A4), "kernel", "c0", "m1")
    c.client_tx("m0", Ether(src=OWN_MAC, dst=APP_MAC) / IPv6(src=X6, dst=A6, hlim=255) /
                ICMPv6ND_NA(tgt=X6, R=0, S=1, O=1), "kernel", "c0", "m1")
    c.client_tx("m0", udp(c, X4, A4, OWN_MAC, APP_MAC, dport=53), "kernel")
    c.client_tx("m0", udp(c, X4, A4, OWN_MAC, APP_MAC, dport=9000), "c0")
    c.client_tx("m0", udp(c, X4, "198.18.0.99", OWN_MAC, APP_MAC), "kernel")  # routed by it
    # and reaches m1 by its MAC; its broadcasts reach everyone but itself, and the wire
    c.client_tx("m0", udp(c, X4, X4B, OWN_MAC, OWN_MAC2), "m1")
    c.client_tx("m0", Ether(src=OWN_MAC, dst=BCAST) /
                ARP(op=1, hwsrc=OWN_MAC, psrc=X4, pdst=X4B), "wire", "kernel", "c0", "m1")
    return c


def dhcp_ack(src_mac, src_ip, yiaddr, lease=3600):
    """A DHCP ACK from a server at src_mac/src_ip to OWN_MAC, giving it yiaddr."""
    return (Ether(src=src_mac, dst=OWN_MAC) / IP(src=src_ip, dst=yiaddr) /
            UDP(sport=67, dport=68) /
            BOOTP(op=2, yiaddr=yiaddr, chaddr=bytes.fromhex(OWN_MAC.replace(":", ""))) /
            DHCP(options=[("message-type", "ack"), ("lease_time", lease), "end"]))


def own_mac_dhcp():
    c = Case("own_mac_dhcp", "a client with a MAC of its own and no address: DHCP from 0.0.0.0 "
             "goes out; the ACKs delivered to it (from the wire, from the kernel) make their "
             "addresses its own, it sends from them; an ACK for the kernel's address is "
             "dropped (dhcp_refused)")
    c.client("m0", mac=OWN_MAC, addresses=[])
    c.wire(dhcp_ack(PEER_MAC, P4, X4), "m0")
    c.wire(dhcp_ack(PEER_MAC, P4, A4))                          # the port's: refused
    c.kernel_tx(dhcp_ack(APP_MAC, A4, X4C), "m0")               # the appliance's own server
    # two control requests: the management lcore has read the ACKs before the client sends
    c.ctl({"cmd": "stats"})
    c.ctl({"cmd": "stats"})
    c.client_tx("m0", Ether(src=OWN_MAC, dst=BCAST) / IP(src="0.0.0.0", dst="255.255.255.255") /
                UDP(sport=68, dport=67) /
                BOOTP(op=1, chaddr=bytes.fromhex(OWN_MAC.replace(":", ""))) /
                DHCP(options=[("message-type", "discover"), "end"]), "wire", "kernel")
    c.client_tx("m0", udp(c, X4, P4, OWN_MAC, PEER_MAC), "wire")
    c.client_tx("m0", udp(c, X4C, P4, OWN_MAC, PEER_MAC), "wire")
    c.client_tx("m0", udp(c, A4, P4, OWN_MAC, PEER_MAC))          # the refused address
    c.client_tx("m0", udp(c, "0.0.0.0", P4, OWN_MAC, PEER_MAC))   # 0.0.0.0, not DHCP
    c.expect_drops(spoofed=2, dhcp_refused=1)
    c.expect_client("m0", spoofed=2)
    return c


OWN_MAC_CASES = [own_mac_rx, own_mac_tx_anti_spoofing, own_mac_local, own_mac_dhcp]
