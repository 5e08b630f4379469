#!/usr/bin/env bash
# test_memif.sh - an isolated client over memif: dpdk-testpmd (its own EAL, its own memory,
# not a secondary of the switch) attached through hello {"channel": "memif"}: it receives its
# UDP port's traffic from the peer and sends it back (5tswap); in io mode it sends the frames
# back unchanged, i.e. from the peer's address: dropped and counted as spoofed. Its latency
# histogram fills (kept by the switch's lcore). When its session ends, the memif device and
# its socket go.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

udp_echo() { printf '%s' "$1" | in_peer timeout 8 socat -t 5 -T 5 - UDP:198.18.0.1:7 2>/dev/null; }
spoofed() { pmx_req '{"cmd":"stats"}' | jq '.result.drops.spoofed'; }

# start_testpmd NAME MODE: testpmd as the memif client, its own file-prefix and memory
start_testpmd() {
	local sock secret id
	sock=$(head -1 "$TB_DIR/session.log" | jq -r '.result.memif.socket')
	secret=$(head -1 "$TB_DIR/session.log" | jq -r '.result.memif.secret')
	id=$(head -1 "$TB_DIR/session.log" | jq -r '.result.memif.id')
	tb_bg "$1" dpdk-testpmd -l 0-1 --file-prefix "tp$TB_ID" --no-pci --no-huge -m 512 \
		--vdev "net_memif0,role=client,id=$id,socket=$sock,socket-abstract=no,secret=$secret" \
		-- --forward-mode="$2" --auto-start --stats-period 1 --total-num-mbufs 4096 \
		--no-mlockall
	tb_wait_for "testpmd forwarding" 150 grep -q "Port 0: link state change event\|Start automatic packet forwarding" "$TB_DIR/$1.log"
}

pmx_hugepages 512
tb_up
TB_MEMIF=1 tb_start_daemon # memif clients are off by default
tb_bg session /usr/bin/python3 "$PMX_ROOT/tests/tools/pmx_session.py" "$TB_SOCK" \
	'{"cmd":"hello","name":"testpmd-memif","channel":"memif"}' \
	'{"cmd":"listen","proto":"udp","port":7}'
tb_wait_for "memif hello and listen" 100 sh -c "[ \$(wc -l < $TB_DIR/session.log) -ge 2 ]"
hello=$(head -1 "$TB_DIR/session.log")
assert_eq "hello over memif names a memif socket" true "$(jq '.ok and (.result.memif.socket | length > 0)' <<< "$hello")"
assert_eq "an isolated client gets no rings, pool or lcore of the switch" "null null null" \
	"$(jq -r '.result | "\(.rx_rings) \(.mempool) \(.lcore)"' <<< "$hello")"
memif_sock=$(jq -r '.result.memif.socket' <<< "$hello")
assert_eq "listen over the memif session" true "$(sed -n 2p "$TB_DIR/session.log" | jq .ok)"

start_testpmd tp1 5tswap
ok=0
for i in 1 2 3 4 5; do
	[ "$(udp_echo "memif-$i")" = "memif-$i" ] && ok=$((ok + 1))
done
assert_eq "UDP :7 answered by the memif client (5 datagrams)" 5 "$ok"
# the switch's lcore that copies into the memif ring keeps the client's latency histogram
assert_eq "memif client: latency samples (>= 5) with p50 <= p99 <= max" true \
	"$(pmx_req '{"cmd":"stats"}' | jq '[.result.clients[] | select(.name == "testpmd-memif") | .latency | .samples >= 5 and .p50_ns > 0 and .p50_ns <= .p99_ns and .p99_ns <= .max_ns] == [true]')"
assert_eq "ping still answered by the kernel" 0 "$(in_peer ping -c 1 -W 3 198.18.0.1 > /dev/null; echo $?)"
kill -TERM "$TB_PID_tp1"; wait "$TB_PID_tp1" 2>/dev/null

# io mode sends every frame back unchanged: from the peer's address, not the client's
start_testpmd tp2 io
s0=$(spoofed)
for i in 1 2 3; do udp_echo "spoof-$i" > /dev/null; done
tb_wait_for "3 spoofed frames counted" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.drops.spoofed') -ge $((s0 + 3)) ]"
assert_eq "a memif client's spoofed frames are dropped and counted" 1 $(( $(spoofed) >= s0 + 3 ))
assert_eq "the client's own counter shows them" 1 \
	"$(pmx_req '{"cmd":"clients"}' | jq '[.result.clients[] | select(.name == "testpmd-memif") | .spoofed >= 3] | if . == [true] then 1 else 0 end')"
kill -TERM "$TB_PID_tp2"; wait "$TB_PID_tp2" 2>/dev/null

# the session ends: the client, its rules and its memif device go (the socket stays for
# the next memif client until the daemon stops)
kill -TERM "$TB_PID_session"
tb_wait_for "memif client detached" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 0 ]"
assert_eq "no rules left" 0 "$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
assert_eq "its memif device is removed" 0 \
	"$(pmx_req '{"cmd":"stats"}' | jq '[.result.clients[] | select(.channel == "memif")] | length')"
tb_stop_daemon
assert_eq "the memif socket is removed with the daemon" no "$([ -e "$memif_sock" ] && echo yes || echo no)"
assert_done
