#!/usr/bin/env bash
# test_multicore.sh - two RX lcores (EAL lcores 1 and 2, with the management lcore 0, on the
# machine's 2 CPUs):
#  1. net_af_packet with qpairs=2 (the kernel's PACKET_FANOUT_HASH, a symmetric flow hash,
#     spreads flows over the two queues): 48 UDP flows (IPv4 and IPv6, different source ports)
#     to two echo clients (UDP 7001 and 7100), 8 numbered datagrams in flight per flow: every
#     reply comes back, in order within its flow, from the port it was sent to; neither client
#     sees a frame of the other's; both queues carried traffic; kernel-fragmented IPv6 datagrams
#     to UDP 7100 reach that client, every fragment.
#  2. net_pcap with two inputs (queue 0 <- one veth, queue 1 <- another), so the peer picks
#     the RX lcore of each frame: IPv4 and IPv6 datagrams whose first fragment lands on one
#     lcore and the later ones on the other, in both orders (later fragments first are held
#     until their first arrives): every fragment reaches its owner, none is dropped.
# Both ports report "software" classification (no rte_flow on these PMDs), and the per-lcore
# stats are printed to show the layout and the spread.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

ECHO=$PMX_BUILD/app/portmux-echo/portmux-echo
# 3 lcores (management 0, RX 1 and 2) floating over the 2 CPUs: on this shared machine every
# other daemon pins its RX lcore to CPU 1, and a pinned lcore can starve there for seconds
LCORES="(0-2)@(0-1)"

# mc_config DEVICE: the testbed's config with 3 lcores (2 RX) and 2 queues on DEVICE; the
# queues as portmuxd counts them when "rx_queues" is not set (one per RX lcore)
mc_config() {
	TB_LCORES=$LCORES TB_RX_QUEUES=auto TB_DEVICE=$1 TB_TAP_LOG=error tb_config
}

# start_echo NAME:PORT...: echo clients, each owning one UDP port (both families), started
# together; returns once all listen
start_echo() {
	local c
	for c in "$@"; do
		tb_bg "${c%:*}" env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" -n "${c%:*}" "${c#*:}"
	done
	for c in "$@"; do
		tb_wait_for "${c%:*} listening on ${c#*:}" 300 \
			grep -q listening "$TB_DIR/${c%:*}.log"
	done
}

# stop_echo NAME...: stop them (together) and wait until they have said goodbye
stop_echo() {
	local c pid_var
	for c in "$@"; do
		pid_var=TB_PID_$c
		kill -TERM "${!pid_var}"
	done
	for c in "$@"; do
		tb_wait_for "$c exit" 300 grep -q echoed "$TB_DIR/$c.log"
	done
}

# others NAME: the number of "other" frames a stopped echo client got (not echoable UDP: for
# the fragment sink its fragments, for the others misdelivered frames)
others() {
	sed -n 's/.* and \([0-9]*\) other frames.*/\1/p' "$TB_DIR/$1.log"
}

# queue_rx: RX packets per queue of the NIC (ethdev 0), from EAL telemetry
queue_rx() {
	$PMX_PY - "/var/run/dpdk/$TB_PREFIX/dpdk_telemetry.v2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)
s.send(b"/ethdev/stats,0")
q = json.loads(s.recv(65536))["/ethdev/stats"]["q_ipackets"]
print(q[0], q[1])
PY
}

# ctl_answers: the control socket answers a request (the first ones after start-up can be
# slow on a loaded machine)
ctl_answers() {
	pmx_req '{"cmd":"stats"}' | grep -q '"ok": *true'
}

# both_used A B: "yes" when both counts are above zero
both_used() {
	[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && echo yes || echo no
}

# part TITLE: a heading with the time spent so far (the machine is shared: where time goes)
part() {
	say "$* (${SECONDS}s)"
}

show_layout() {
	local stats
	stats=$(pmx_req '{"cmd":"stats"}')
	echo "lcores: $(jq -c '[.result.lcores[] | {worker, lcore, loops, busy_loops,
		frag_unknown: .drops.frag_unknown}]' <<< "$stats")"
	echo "queues (RX packets of queue 0, queue 1): $(queue_rx)"
}

pmx_hugepages 512
tb_up

# ---- 1. af_packet, 2 queues: flows spread, stay in order, reach their owner ----
part "af_packet, qpairs=2, RX lcores 1 and 2"
mc_config "net_af_packet0,iface=pmx-wire,qpairs=2"
tb_start_daemon
tb_wait_for "the control socket answers" 300 ctl_answers
assert_eq "two RX lcores" 2 "$(pmx_req '{"cmd":"stats"}' | jq '.result.lcores | length')"
info=$(pmx_req '{"cmd":"port_info","port":0}')
assert_eq "af_packet port classifies in software" software \
	"$(jq -r .result.flow_offload <<< "$info")"
echo "offload: $(jq -r .result.flow_offload_note <<< "$info")"
start_echo echoA:7001 sink:7100
part "clients attached"
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null
in_peer ping -6 -c 1 -W 2 fd00::1 > /dev/null

cat > "$TB_DIR/flows.py" <<'PY'
# 48 UDP flows, each a socket of its own (its own source port), 8 datagrams in flight per flow
import json, select, socket, sys, time
N4, N6, WINDOW, ROUNDS = 40, 8, 8, 5
flows = []
for i in range(N4 + N6):
    fam, src, dst = ((socket.AF_INET, "198.18.0.2", "198.18.0.1") if i < N4
                     else (socket.AF_INET6, "fd00::2", "fd00::1"))
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    flows.append((s, (dst, 7001 if i % 2 else 7100)))
index = {s.fileno(): f for f, (s, _) in enumerate(flows)}
got = [[] for _ in flows]
wrong_source = wrong_payload = 0
for r in range(ROUNDS):
    for k in range(WINDOW):
        for f, (s, dst) in enumerate(flows):
            s.sendto(b"flow %d seq %d " % (f, r * WINDOW + k) + b"." * 64, dst)
    want = (r + 1) * WINDOW
    deadline = time.time() + 30
    while time.time() < deadline and any(len(g) < want for g in got):
        ready, _, _ = select.select([s for s, _ in flows], [], [], 0.2)
        for s in ready:
            f = index[s.fileno()]
            data, addr = s.recvfrom(4096)
            if addr[0] != flows[f][1][0] or addr[1] != flows[f][1][1]:
                wrong_source += 1
            words = data.split()
            if len(words) < 4 or words[1] != b"%d" % f:
                wrong_payload += 1
                continue
            got[f].append(int(words[3]))
sent = len(flows) * WINDOW * ROUNDS
received = sum(len(g) for g in got)
reordered = sum(1 for g in got if g != sorted(set(g)))
print(json.dumps({"flows": len(flows), "sent": sent, "received": received,
                  "reordered_flows": reordered, "wrong_source": wrong_source,
                  "wrong_payload": wrong_payload}))
PY
part "48 flows"
before=($(queue_rx))
result=$(in_peer timeout 120 $PMX_PY "$TB_DIR/flows.py")
after=($(queue_rx))
echo "flows: $result"
assert_eq "every datagram of 48 flows echoed" "1920 1920" \
	"$(jq -r '"\(.sent) \(.received)"' <<< "$result")"
assert_eq "no flow reordered" 0 "$(jq .reordered_flows <<< "$result")"
assert_eq "every reply from the port it was sent to" 0 "$(jq .wrong_source <<< "$result")"
assert_eq "every reply carries its own flow's payload" 0 "$(jq .wrong_payload <<< "$result")"
q0=$((after[0] - before[0])) q1=$((after[1] - before[1]))
echo "flows spread: queue 0 got $q0 frames, queue 1 got $q1"
assert_eq "both RX queues carried flows" yes "$(both_used "$q0" "$q1")"

# IPv6 datagrams over the 1500-byte MTU: the peer's kernel fragments them (IPv4 ones would be
# reassembled by af_packet's PACKET_FANOUT_FLAG_DEFRAG before the switch sees them)
part "kernel-fragmented IPv6"
frags_before=$(in_peer awk '$1 == "Ip6FragCreates" {print $2}' /proc/net/snmp6)
in_peer $PMX_PY - <<'PY'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(b"%04d" % i + b"f" * 2996, ("fd00::1", 7100))
PY
frags=$(( $(in_peer awk '$1 == "Ip6FragCreates" {print $2}' /proc/net/snmp6) - frags_before ))
assert_eq "the peer's kernel cut 10 datagrams into 30 fragments" 30 "$frags"
tb_wait_for "the sink received $frags fragments" 300 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK |
	   jq '[.result.clients[] | select(.name == \"sink\") | .rx] | add') -ge $frags ]"
show_layout
stop_echo echoA sink
assert_eq "the sink (UDP 7100) got every fragment ($frags) and no frame of A's" "$frags" \
	"$(others sink)"
assert_eq "echo client A (UDP 7001) got no frame of the sink's" 0 "$(others echoA)"
part "clients stopped"
stats=$(pmx_req '{"cmd":"stats"}')
assert_eq "no malformed, no_route, ring_full, frag_unknown drops" "0 0 0 0" \
	"$(jq -r '.result.drops | "\(.malformed) \(.no_route) \(.ring_full) \(.frag_unknown)"' \
		<<< "$stats")"
tb_stop_daemon
part "daemon stopped"

# ---- 2. net_pcap, one input per queue: fragments split across the RX lcores ----
part "net_pcap, queue 0 <- pmx-wire, queue 1 <- pmx-wire1"
ip link add pmx-wire1 netns "$TB_APP" type veth peer name eth1 netns "$TB_PEER" ||
	die "cannot create the second veth pair"
in_app sysctl -qw net.ipv6.conf.pmx-wire1.disable_ipv6=1 net.ipv4.conf.pmx-wire1.arp_ignore=8 \
	net.ipv4.conf.pmx-wire1.rp_filter=1
ip -n "$TB_APP" link set pmx-wire1 up
ip -n "$TB_PEER" link set eth1 up
pcap="net_pcap0,rx_iface_in=pmx-wire,tx_iface=pmx-wire"        # queue 0
pcap+=",rx_iface_in=pmx-wire1,tx_iface=pmx-wire1"               # queue 1
mc_config "$pcap"
mv "$TB_DIR/portmuxd.log" "$TB_DIR/portmuxd-af_packet.log" # tb_start_daemon waits for "ready"
tb_start_daemon
tb_wait_for "the control socket answers" 300 ctl_answers
part "daemon started"
info=$(pmx_req '{"cmd":"port_info","port":0}')
assert_eq "pcap port classifies in software" software "$(jq -r .result.flow_offload <<< "$info")"
[ -n "$info" ] || { echo "port_info: no reply"; tail -5 "$TB_LOG"; }
start_echo echoA:7001 sink:7100
app_mac=$(in_app cat /sys/class/net/pmx0/address)

cat > "$TB_DIR/frags.py" <<'PY'
# Datagrams to UDP 7100, fragmented, the first fragment sent on one interface (one RX
# queue/lcore of the switch) and the later ones on the other; half of them later-first.
import sys
from scapy.all import IP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw, conf, fragment, fragment6
dst_mac = sys.argv[1]
socks = {i: conf.L2socket(iface=i) for i in ("eth0", "eth1")}
macs = {i: open("/sys/class/net/%s/address" % i).read().strip() for i in socks}
sent = 0
for n in range(8):
    payload = Raw(b"%04d" % n + b"z" * 1996)
    if n % 2 == 0:
        dgram = IP(src="198.18.0.2", dst="198.18.0.1", id=0x4000 + n) / UDP(
            sport=41000 + n, dport=7100) / payload
        frags = fragment(dgram, fragsize=800)
    else:
        dgram = IPv6(src="fd00::2", dst="fd00::1") / IPv6ExtHdrFragment(id=0x5000 + n) / UDP(
            sport=41000 + n, dport=7100) / payload
        frags = fragment6(dgram, 900)
    first_if, rest_if = ("eth0", "eth1") if n % 4 < 2 else ("eth1", "eth0")
    plan = [(first_if, frags[:1]), (rest_if, frags[1:])]
    if n % 8 >= 4:
        plan.reverse()  # later fragments first: held on their lcore until the first comes
    for iface, fs in plan:
        for f in fs:
            socks[iface].send(Ether(src=macs[iface], dst=dst_mac) / f)
            sent += 1
print(sent)
PY
part "crafted fragments"
before=($(queue_rx))
frags=$(in_peer timeout 60 $PMX_PY "$TB_DIR/frags.py" "$app_mac")
after=($(queue_rx))
assert_eq "24 crafted fragments of 8 datagrams (4 IPv4, 4 IPv6) sent" 24 "$frags"
tb_wait_for "the sink received $frags fragments" 300 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK |
	   jq '[.result.clients[] | select(.name == \"sink\") | .rx] | add') -ge $frags ]"
q0=$((after[0] - before[0])) q1=$((after[1] - before[1]))
echo "fragments per queue: queue 0 got $q0, queue 1 got $q1"
assert_eq "both RX queues received fragments" yes "$(both_used "$q0" "$q1")"
show_layout
stop_echo echoA sink
assert_eq "fragments split across lcores: every one reached the sink ($frags)" "$frags" \
	"$(others sink)"
assert_eq "echo client A got none of them" 0 "$(others echoA)"
stats=$(pmx_req '{"cmd":"stats"}')
assert_eq "no fragment dropped (frag_unknown), nothing malformed" "0 0" \
	"$(jq -r '.result.drops | "\(.frag_unknown) \(.malformed)"' <<< "$stats")"
part "done"
assert_done
