#!/usr/bin/env bash
# test_afpacket.sh - lib/afpacket, portmux's port for kernel interfaces (packet sockets behind a
# ring ethdev the RX lcore pumps), on the
# testbed's veth with the kernel's default offloads on both ends (checksum offload, TSO and
# GSO on; GRO off, as veth has it): the device string "net_af_packet0,iface=pmx-wire" gets
# this port, with the interface's MAC; TCP from the peer to the kernel's :22 (partial checksums completed); a 6 MB
# upload to a kernel listener, byte for byte (TSO super-frames cut into wire frames); a
# 3,000-byte UDP datagram reaching the switch as its fragments; and the frames the packet
# socket drops while the daemon is stopped counted in the port's imissed and in its
# afpacket.socket_drops (control API and telemetry), every one; and a TCP checksum that is
# simply wrong still reaches the kernel wrong.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

offloads() { ip netns exec "$1" ethtool -k "$2" | grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' | tr -d '\n'; }
stats() { pmx_req '{"cmd":"stats"}'; }
afp() { stats | jq ".result.ports[0].afpacket.$1"; }

pmx_hugepages 512
tb_up # both ends at the kernel's defaults: the testbed tunes no offload
echo "peer eth0: $(offloads "$TB_PEER" eth0)"
echo "app pmx-wire: $(offloads "$TB_APP" pmx-wire)"
assert_match "peer at the defaults: TSO on" "tcp-segmentation-offload: on" "$(offloads "$TB_PEER" eth0)"
assert_match "peer at the defaults: checksum offload on" "tx-checksumming: on" "$(offloads "$TB_PEER" eth0)"
tb_start_daemon
tb_sshd

info=$(tb_ctl show port info 0)
assert_match "the device string gets portmux's port" \
	"Driver name: portmux af_packet on pmx-wire (ring ethdev net_ring_pmx_pmx-wire)" "$info"
assert_match "the port has the interface's MAC" \
	"MAC address: $(in_app cat /sys/class/net/pmx-wire/address | tr a-f A-F)" "$info"
assert_eq "the interface is promiscuous while the port exists" true \
	"$(in_app ip -d -j link show pmx-wire | jq '.[0].promiscuity >= 1')"

# ---- TCP to the kernel's :22: the peer's segments carry partial checksums ----
csum_before=$(afp csum_completed)
out=$(in_peer timeout 15 socat -t 10 -T 10 - TCP:198.18.0.1:22 < /dev/null)
assert_eq "TCP :22 reaches the kernel from a peer at the defaults" "SSH-2.0-kernel" "$out"
assert_eq "partial checksums completed (afpacket.csum_completed grew)" true \
	"$([ "$(afp csum_completed)" -gt "$csum_before" ] && echo true)"
assert_eq "the appliance's kernel saw no TCP checksum error" 0 \
	"$(in_app nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')"

# ---- a checksum that is simply wrong (not marked partial) stays wrong: the kernel rejects it ----
csum_errors() { in_app nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}'; }
in_peer "$PMX_PY" -c "
from scapy.all import IP, TCP, raw, send
p = IP(src='198.18.0.2', dst='198.18.0.1') / TCP(sport=40001, dport=22, flags='S', seq=1)
good = IP(raw(p))[TCP].chksum
p[TCP].chksum = good + 1 if good < 0xfffe else 1
send(p, verbose=0)"
tb_wait_for "the kernel counted a checksum error" 50 sh -c "[ \$(ip netns exec $TB_APP nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print \$2}') -ge 1 ]"
assert_eq "a SYN with a wrong checksum reached the kernel still wrong (TcpInCsumErrors 1)" 1 \
	"$(csum_errors)"

# ---- a 6 MB upload to a kernel listener: TSO super-frames cut into wire frames ----
head -c 6000000 /dev/urandom > "$TB_DIR/upload"
tb_bg sink socat -u TCP-LISTEN:5001,reuseaddr CREATE:"$TB_DIR/received"
tb_wait_for "kernel :5001 listening" 100 in_app sh -c "ss -ltn | grep -q ':5001 '"
segs_before=$(afp gso_segments)
t0=$(date +%s.%N)
in_peer timeout 60 socat -u OPEN:"$TB_DIR/upload" TCP:198.18.0.1:5001
tb_wait_for "the listener got 6 MB" 100 sh -c "[ \$(stat -c %s $TB_DIR/received) -ge 6000000 ]"
t1=$(date +%s.%N)
assert_eq "6 MB upload arrived byte for byte" "$(sha256sum < "$TB_DIR/upload")" \
	"$(sha256sum < "$TB_DIR/received")"
echo "upload: $(echo "$t1 - $t0" | bc) s; afpacket: $(stats | jq -c '.result.ports[0].afpacket')"
assert_eq "super-frames were cut (afpacket.gso_segments grew)" true \
	"$([ "$(afp gso_segments)" -gt "$segs_before" ] && echo true)"

# ---- a 3,000-byte UDP datagram reaches the switch as its three fragments ----
tb_bg udpsink socat -u UDP-RECV:5002 CREATE:"$TB_DIR/datagram"
tb_wait_for "kernel :5002 listening" 50 in_app sh -c "ss -lun | grep -q ':5002 '"
tb_bg frags tcpdump -n -l -i pmx0 -c 3 'udp or (ip[6:2] & 0x1fff != 0)'
tb_wait_for "tcpdump on pmx0" 50 grep -q listening "$TB_DIR/frags.log"
malformed_before=$(stats | jq '.result.drops.malformed')
head -c 3000 /dev/urandom > "$TB_DIR/dgram"
in_peer socat -u OPEN:"$TB_DIR/dgram" UDP-SENDTO:198.18.0.1:5002
tb_wait_for "the datagram reached the kernel" 50 sh -c "[ -s $TB_DIR/datagram ]"
tb_wait_for "three frames on pmx0" 50 sh -c "[ \$(grep -c 'IP 198.18.0.2' $TB_DIR/frags.log) -ge 3 ]"
assert_eq "3,000-byte datagram arrived whole" "$(sha256sum < "$TB_DIR/dgram")" \
	"$(sha256sum < "$TB_DIR/datagram")"
assert_eq "it crossed the switch as 3 fragments" 3 "$(grep -c 'IP 198.18.0.2' "$TB_DIR/frags.log")"
assert_eq "the switch counted nothing malformed" "$malformed_before" \
	"$(stats | jq '.result.drops.malformed')"

# ---- frames the packet socket drops while the RX lcore cannot run are counted ----
mac=$(in_app cat /sys/class/net/pmx-wire/address)
in_peer ip neigh replace 198.18.0.1 dev eth0 lladdr "$mac" nud permanent
before=$(stats | jq '.result.ports[0].nic | .ipackets + .imissed')
N=5000
kill -STOP "$TB_DAEMON_PID"
in_peer "$PMX_PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range($N):
    s.sendto(b'x' * 64, ('198.18.0.1', 9))"
kill -CONT "$TB_DAEMON_PID"
tb_wait_for "the switch read what the socket kept" 100 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.ports[0].nic | .ipackets + .imissed') -ge $((before + N)) ]"
nicstats=$(stats | jq -c '.result.ports[0].nic')
echo "after $N datagrams to a stopped daemon: $nicstats"
imissed=$(jq .imissed <<< "$nicstats")
assert_eq "the socket's drops counted in imissed" true "$([ "$imissed" -gt 0 ] && echo true)"
assert_eq "bytes counted (the ring ethdev counts none: the port's own)" true \
	"$(jq '.ibytes >= 64 * .ipackets and .obytes > 0' <<< "$nicstats")"
assert_eq "every frame counted once: received + missed = sent (+ at most 10 others)" true \
	"$(jq --argjson b "$before" --argjson n "$N" '(.ipackets + .imissed - $b) as $d | $d >= $n and $d <= $n + 10' <<< "$nicstats")"
assert_eq "afpacket.socket_drops matches imissed" "$imissed" "$(afp socket_drops)"
assert_eq "telemetry /portmux/stats: the same socket_drops" "$imissed" \
	"$(tb_telemetry /portmux/stats | jq '.ports."0/afpacket/socket_drops"')"
assert_match "show port stats: the af_packet counters" "af_packet: socket-drops $imissed " \
	"$(tb_ctl show port stats all)"
assert_done
