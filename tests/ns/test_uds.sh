#!/usr/bin/env bash
# test_uds.sh - clients over the uds channel (one Ethernet frame per datagram on a socketpair
# whose other end portmuxd keeps), written in plain Python (tests/tools/uds_client.py, no
# DPDK, no shared memory): hello {"channel": "uds"} passes the client's end with SCM_RIGHTS
# beside the reply; the client answers UDP from the peer on its port, gets its copy of ARP and
# the ICMP error quoting a datagram it sent, fills its latency histogram; a frame it sends from an address not the appliance's is dropped
# and counted as spoofed; killed, it is detached and its rule goes; a client that closes its
# end (SOCK_DGRAM: seen at the next frame for it) is detached while its session stays open.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CLIENT=$PMX_ROOT/tests/tools/uds_client.py
# udp PORT TEXT: one datagram from the peer, prints the answer (empty after 2 s)
udp() { printf '%s' "$2" | in_peer timeout 4 socat -t 2 -T 2 - UDP:198.18.0.1:"$1" 2>/dev/null; }
stat_of() { pmx_req '{"cmd":"stats"}' | jq "$@"; }
n_clients() { pmx_req '{"cmd":"clients"}' | jq '.result.clients | length'; }

pmx_hugepages 512
tb_up
tb_start_daemon

baseline=$(stat_of '.result.mempool.in_use')
tb_bg u1 /usr/bin/python3 "$CLIENT" "$TB_SOCK" uds-py 7 seqpacket
tb_wait_for "uds hello and listen" 100 sh -c "[ \$(wc -l < $TB_DIR/u1.log) -ge 2 ]"
hello=$(head -1 "$TB_DIR/u1.log")
assert_eq "hello over uds: ok, channel uds, seqpacket" "true uds seqpacket" \
	"$(jq -r '"\(.ok) \(.result.channel) \(.result.uds.type)"' <<< "$hello")"
assert_eq "a uds client gets no rings, pool, lcore or shared memory" "null null null null" \
	"$(jq -r '.result | "\(.rx_rings) \(.mempool) \(.lcore) \(.shm)"' <<< "$hello")"
assert_eq "listen over the uds session" true "$(sed -n 2p "$TB_DIR/u1.log" | jq .ok)"
assert_eq "the client is shown with channel uds" '["uds"]' \
	"$(pmx_req '{"cmd":"clients"}' | jq -c '[.result.clients[].channel]')"

ip -n "$TB_PEER" neigh flush dev eth0
ok=0
for i in 1 2 3 4 5; do
	got=$(udp 7 "uds-$i")
	[ "$got" = "uds-$i" ] && ok=$((ok + 1)) || echo "# uds-$i: got [$got]"
done
assert_eq "UDP :7 answered by the Python uds client (5 datagrams)" 5 "$ok"
assert_eq "the uds client got its copy of the peer's ARP" 1 "$(grep -c '^arp$' "$TB_DIR/u1.log")"
assert_eq "uds client: latency samples (>= 5) with p50 <= p99 <= max" true \
	"$(stat_of '[.result.clients[] | select(.name == "uds-py") | .latency | .samples >= 5 and .p50_ns > 0 and .p50_ns <= .p99_ns and .p99_ns <= .max_ns] == [true]')"
assert_eq "its channel counters: >= 5 frames sent to it, >= 5 received, none lost" \
	"true true 0" "$(stat_of -r '.result.clients[] | select(.name == "uds-py") | .uds | "\(.sent >= 5) \(.received >= 5) \(.socket_full)"')"
assert_eq "ping still answered by the kernel" 0 "$(in_peer ping -c 1 -W 3 198.18.0.1 > /dev/null; echo $?)"

# ICMP errors go to the owner of the flow they quote: the client's datagram to a closed port
udp 7 "probe" > /dev/null
tb_wait_for "the peer's port unreachable reaches the uds client" 50 \
	grep -q '^icmp-unreachable$' "$TB_DIR/u1.log"
assert_eq "the ICMP error quoting its datagram reaches the uds client" 1 \
	"$(grep -c '^icmp-unreachable$' "$TB_DIR/u1.log")"

# a frame from an address that is not the appliance's: dropped, counted, never on the wire
s0=$(stat_of '.result.drops.spoofed')
assert_eq "the spoofed answer does not reach the peer" "" "$(udp 7 "spoof-1")"
tb_wait_for "spoof seen by the client" 50 grep -q '^spoof$' "$TB_DIR/u1.log"
tb_wait_for "spoofed frame counted" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.drops.spoofed') -ge $((s0 + 1)) ]"
assert_eq "the spoofed frame is dropped and counted (switch and client)" "1 1" \
	"$(( $(stat_of '.result.drops.spoofed') - s0 )) $(stat_of '[.result.clients[] | select(.name == "uds-py") | .spoofed][0]')"

# killed: its session and its channel close; it is detached and its rule goes
{ kill -KILL "$TB_PID_u1"; wait "$TB_PID_u1"; } 2>/dev/null
tb_wait_for "killed uds client detached" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 0 ]"
assert_eq "no rules left after the kill" 0 "$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
assert_eq "UDP :7 no longer answered" "" "$(udp 7 "after-kill")"

# SOCK_DGRAM, and a client that closes its end but keeps its session: detached at the next
# frame the switch has for it
tb_bg u2 /usr/bin/python3 "$CLIENT" "$TB_SOCK" uds-dgram 9 dgram
tb_wait_for "dgram hello and listen" 100 sh -c "[ \$(wc -l < $TB_DIR/u2.log) -ge 2 ]"
assert_eq "hello over uds: dgram" "true dgram" \
	"$(head -1 "$TB_DIR/u2.log" | jq -r '"\(.ok) \(.result.uds.type)"')"
assert_eq "UDP :9 answered over SOCK_DGRAM" "dgram-1" "$(udp 9 "dgram-1")"
udp 9 "close" > /dev/null
tb_wait_for "the client closed its end" 50 grep -q '^closed$' "$TB_DIR/u2.log"
udp 9 "to-a-closed-end" > /dev/null
tb_wait_for "client with a closed end detached" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 0 ]"
assert_eq "its rule is gone" 0 "$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
assert_eq "its session stayed open" 1 "$(kill -0 "$TB_PID_u2" 2>/dev/null && echo 1 || echo 0)"
grep -q "closed its uds channel: detached" "$TB_LOG"
assert_eq "the daemon logs why it detached it" 0 $?

# nothing leaked: every mbuf back in the pool once the clients are gone
kill -TERM "$TB_PID_u2"; wait "$TB_PID_u2" 2>/dev/null
tb_wait_for "mbufs back" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
assert_eq "mempool in use back to baseline ($baseline): no mbuf leaked" "$baseline" \
	"$(stat_of '.result.mempool.in_use')"
tb_stop_daemon
assert_done
