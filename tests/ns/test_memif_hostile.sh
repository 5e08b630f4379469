#!/usr/bin/env bash
# test_memif_hostile.sh - a hostile memif client (tests/tools/memif_hostile.c: our own memif
# client, no DPDK) against portmuxd, next to a well-behaved ring client (portmux-echo, UDP :7).
# For each mode the client runs (well-formed frames, zero-length descriptors, descriptors
# longer than their buffer, 80 KiB chained frames, chained-descriptor loops, a flood,
# descriptors outside its region in either direction, leaving while the switch reads its
# ring), the daemon stays up and answers stats, the ring client answers the peer during and
# after, the mempool's in-use count returns to its baseline and the bad frames are counted
# under their reason, nothing read outside the region reaching the peer. Handshakes that break
# the protocol (wrong id or secret, a second connection, an unsealed or undersized region, a
# ring outside its region or too large, a missing ring, another version) are refused with
# DISCONNECT. Then a ring client that stops reading loses only its own frames (ring_full, its
# own counter) while the other keeps answering.
#
# portmuxd serves memif itself (lib/control/memif_server.c, lib/dataplane/memif_ring.c); with
# DPDK 22.11's net_memif PMD the modes of g) and h) crashed it or leaked (docs/SECURITY.md).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

stats() { pmx_req '{"cmd":"stats"}'; }
drop() { stats | jq ".result.drops.$1"; }
in_use() { stats | jq '.result.mempool.in_use'; }
client_field() { pmx_req '{"cmd":"clients"}' | jq ".result.clients[] | select(.name == \"$1\") | .$2"; }
# udp_echo PORT TEXT: one datagram from the peer, the reply printed (none within 3 s: empty)
udp_echo() {
	in_peer timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(sys.argv[2].encode(), ("198.18.0.1", int(sys.argv[1])))
try:
    print(s.recv(2048).decode(), end="")
except OSError:
    pass' "$1" "$2"
}
sunk() { grep -a -o "memif-hostile $1 [0-9]" "$TB_DIR/sink.log" | wc -l; }
# the CPU time (clock ticks) the daemon's RX lcore thread has had: on a shared machine a
# missing answer may be the scheduler's doing, and this tells which
lcore_ticks() {
	local t
	for t in /proc/"$TB_DAEMON_PID"/task/*; do
		[ "$(cat "$t/comm" 2> /dev/null)" = rte-worker-1 ] && awk '{ print $14 + $15 }' "$t/stat"
	done
}
sent() { sed -n 's/^mode=.* sent=\([0-9]*\).*/\1/p' "$TB_DIR/$1.log"; }

pmx_hugepages 512
tb_up
TB_MEMIF=1 tb_start_daemon # memif clients are off by default
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null # ARP settled

tb_bg echo env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/app/portmux-echo/portmux-echo" 7
tb_wait_for "echo client listening" 100 grep -q listening "$TB_DIR/echo.log"
tb_bg session /usr/bin/python3 "$PMX_ROOT/tests/tools/pmx_session.py" "$TB_SOCK" \
	'{"cmd":"hello","name":"hostile","channel":"memif"}' \
	'{"cmd":"listen","proto":"udp","port":9}'
tb_wait_for "memif hello and listen" 100 sh -c "[ \$(wc -l < $TB_DIR/session.log) -ge 2 ]"
hello=$(head -1 "$TB_DIR/session.log")
assert_eq "memif client attached and listening on UDP :9" "true true" \
	"$(jq -r .ok <<< "$hello") $(sed -n 2p "$TB_DIR/session.log" | jq -r .ok)"
msock=$(jq -r .result.memif.socket <<< "$hello")
mid=$(jq -r .result.memif.id <<< "$hello")
msecret=$(jq -r .result.memif.secret <<< "$hello")
mac=$(jq -r .result.mac <<< "$hello")
pmac=$(in_peer cat /sys/class/net/eth0/address)
tb_bg_peer sink socat -u UDP-RECV:9 -
assert_eq "ring client answers before" before "$(udp_echo 7 before)"
baseline=$(in_use)

# hostile NAME MODE ARGS...: the peer's probe of the ring client, then the memif client in
# the background (it stops by itself)
hostile() {
	local name=$1 mode=$2
	shift 2
	probe_start "$name"
	LCORE_T0=$(lcore_ticks) LCORE_W0=$(date +%s.%N)
	tb_bg "$name" "$PMX_BUILD/tests/memif-hostile" --socket "$msock" --id "$mid" \
		--secret "$msecret" --mode "$mode" --src-mac "$mac" --dst-mac "$pmac" "$@"
	tb_wait_for "$name connected" 50 grep -q '^connected' "$TB_DIR/$name.log"
}

# probe_start NAME: the peer asks the ring client (UDP :7) every 100 ms, printing the
# wall-clock time of each answer, until probe_stop (at most 15 s); returns at its first answer
probe_start() {
	tb_bg_peer "probe_$1" python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end, sent = time.time() + 15, 0
while time.time() < end and not os.path.exists(sys.argv[1]):
    s.sendto(b"probe-%d" % sent, ("198.18.0.1", 7))
    sent += 1
    t = time.time() + 0.1
    while time.time() < t:
        try:
            s.recv(2048)
            print("answer %.3f" % time.time(), flush=True)
        except BlockingIOError:
            time.sleep(0.005)
print("probe sent=%d" % sent, flush=True)' "$TB_DIR/stop_$1"
	tb_wait_for "$1: probe answered before the run" 100 grep -q '^answer' "$TB_DIR/probe_$1.log"
}
probe_stop() {
	touch "$TB_DIR/stop_$1"
	tb_wait_for "$1: probe done" 100 grep -q '^probe' "$TB_DIR/probe_$1.log"
}

# contained NAME: the checks every mode must pass while and after the client runs (the
# machine is shared: a lost probe is not a failure, no answer while the client ran is; the
# answer after gets three tries)
contained() {
	local name=$1 pid rc during reply i t1
	eval "pid=\$TB_PID_$name"
	tb_wait_for "$name ends by itself" 150 grep -q '^mode=' "$TB_DIR/$name.log"
	wait "$pid"
	rc=$?
	t1=$(lcore_ticks)
	echo "# $name: the RX lcore had $(awk -v t="$((${t1:-0} - ${LCORE_T0:-0}))" -v w0="$LCORE_W0" \
		-v w1="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%d", 100 * t / hz / (w1 - w0) }')% of a CPU during the run"
	probe_stop "$name"
	echo "# $(grep '^mode=' "$TB_DIR/$name.log")"
	during=$(awk -v s="$(sed -n 's/^mode=.* start=\([0-9.]*\).*/\1/p' "$TB_DIR/$name.log")" \
		-v e="$(sed -n 's/^mode=.* end=\([0-9.]*\).*/\1/p' "$TB_DIR/$name.log")" \
		'$1 == "answer" && $2 >= s && $2 <= e { n++ } END { print n + 0 }' "$TB_DIR/probe_$name.log")
	echo "# $name: $during answers while the client ran ($(sed -n "s/^probe sent=//p" "$TB_DIR/probe_$name.log") probes in all)"
	assert_eq "$name: ring client answers the peer while the hostile client runs" 1 $((during >= 1))
	assert_eq "$name: the client ran to its end, the server still connected (exit 0)" 0 "$rc"
	assert_eq "$name: portmuxd answers stats" true "$(stats | jq .ok)"
	for i in 1 2 3; do
		reply=$(udp_echo 7 "after-$name")
		[ "$reply" = "after-$name" ] && break
	done
	assert_eq "$name: ring client answers after" "after-$name" "$reply"
	tb_wait_for "$name: mempool back to its baseline" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
	assert_eq "$name: mempool in use back to its baseline" "$baseline" "$(in_use)"
}

# The paced modes post about once a millisecond for 2 s: long enough to probe the ring
# client during the run. Each counts what it posted (sent=N on its last line).
PACED=(--count 1000000 --seconds 2)

# a) well-formed frames from the memif client reach the peer
tx0=$(client_field hostile tx)
hostile good good "${PACED[@]}" --gap-us 10000 # 100/s: the peer's socat keeps up
contained good
n=$(sent good)
assert_eq "good: posted frames ($n) all counted sent" "$n" $(($(client_field hostile tx) - tx0))
tb_wait_for "$n datagrams at the peer" 50 sh -c "[ \$(grep -a -o 'memif-hostile good [0-9]' $TB_DIR/sink.log | wc -l) -ge $n ]"
assert_eq "good: the peer got them all" "$n" "$(sunk good)"

# b) zero-length descriptors: empty frames, malformed
m0=$(drop malformed)
hostile zero zero-len "${PACED[@]}"
contained zero
n=$(sent zero)
assert_eq "zero-len: $n empty frames counted malformed" "$n" $(($(drop malformed) - m0))

# c) descriptors longer than their buffer (8 KiB, inside the region) and chains of 40 full
#    buffers (80 KiB): longer than any port takes, counted oversize, nothing on the wire
o0=$(drop oversize) s0=$(sunk big-len)
hostile long big-len --variant 0 "${PACED[@]}"
contained long
n=$(sent long)
assert_eq "big-len: $n 8 KiB frames counted oversize" "$n" $(($(drop oversize) - o0))
o0=$(drop oversize) s1=$(sunk oversize)
hostile huge oversize "${PACED[@]}"
contained huge
n=$(sent huge)
assert_eq "oversize: $n chained 80 KiB frames counted oversize" "$n" $(($(drop oversize) - o0))
assert_eq "none of them reached the peer" "0 0" "$(($(sunk big-len) - s0)) $(($(sunk oversize) - s1))"

# d) a chained-descriptor loop: 4 posted slots all flagged "next", the chain running past what
#    the client posted: malformed, its slots consumed (postings read in one poll make one
#    frame, so 1 to n frames for n postings); nothing of it sent
m0=$(drop malformed) t0=$(client_field hostile tx) k0=$(wc -c < "$TB_DIR/sink.log")
hostile loop chain-loop --variant 0 --count 5 --seconds 5
contained loop
n=$(sent loop) d=$(($(drop malformed) - m0))
assert_eq "chain-loop: its $n postings counted malformed ($d frames)" 1 $((d >= 1 && d <= n))
assert_eq "chain-loop: nothing of it sent, nothing at the peer" "0 0" \
	"$(($(client_field hostile tx) - t0)) $(($(wc -c < "$TB_DIR/sink.log") - k0))"

# e) a flood, as fast as the client can for at most 2 s: every frame accounted as sent
t0=$(client_field hostile tx)
hostile flood flood --count 400000 --seconds 2
contained flood
n=$(sent flood)
assert_eq "flood: the client's frames all counted sent ($n)" "$n" $(($(client_field hostile tx) - t0))
echo "# flood: $n frames in at most 2 s; drops $(stats | jq -c .result.drops)"

# f) a ring client that stops reading: its ring fills, its frames are counted ring_full for
#    it alone, the other ring client keeps answering
tb_bg stuck env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/app/portmux-echo/portmux-echo" 8
tb_wait_for "second ring client listening" 100 grep -q listening "$TB_DIR/stuck.log"
kill -STOP "$TB_PID_stuck"
rf0=$(client_field portmux-echo ring_full | head -1)
in_peer python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1500):
    s.sendto(b"stuck-%d" % i, ("198.18.0.1", 8))
    time.sleep(0.0005)'
tb_wait_for "the stopped client's ring full" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '[.result.clients[].ring_full] | max') -ge 100 ]"
assert_eq "stopped ring client: its frames over the ring size counted as its own ring_full" 1 \
	"$(pmx_req '{"cmd":"clients"}' | jq '[.result.clients[] | select(.name == "portmux-echo") | .ring_full] | (max >= 100 and min == 0) | if . then 1 else 0 end')"
for i in 1 2 3; do
	reply=$(udp_echo 7 beside-stuck)
	[ "$reply" = beside-stuck ] && break
done
assert_eq "the other ring client answers meanwhile (of 3 tries)" beside-stuck "$reply"
kill -KILL "$TB_PID_stuck"
tb_wait_for "stopped client detached" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 2 ]"
tb_wait_for "mempool back to its baseline" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
assert_eq "mempool back to its baseline after the stopped client" "$baseline" "$(in_use)"

# g) descriptors outside the client's region (an index of a region never added, offsets
#    straddling or past its end or 4 GiB away, a valid header chained to bytes past its end,
#    a length of 0xffffffff), a chain over every slot of the ring, a client that leaves while
#    the switch reads its ring: each posting counted malformed, nothing read outside the
#    region at the peer, nothing sent
i=0
for spec in bad-region bad-offset bad-offset:3 big-len:1 chain-loop:1 chain-loop:2; do
	umode=${spec%%:*} args=(--count 200 --seconds 5)
	[ "$umode" != "$spec" ] && args+=(--variant "${spec#*:}")
	i=$((i + 1))
	m0=$(drop malformed) k0=$(wc -c < "$TB_DIR/sink.log") t0=$(client_field hostile tx)
	hostile "out$i" "$umode" "${args[@]}"
	contained "out$i"
	n=$(sent "out$i") d=$(($(drop malformed) - m0))
	if [ "$umode" = chain-loop ]; then
		assert_eq "$spec: its $n postings counted malformed ($d frames)" 1 $((d >= 1 && d <= n))
	else
		assert_eq "$spec: every posting counted malformed" "$n" "$d"
	fi
	assert_eq "$spec: nothing of it sent, no byte of it at the peer" "0 0" \
		"$(($(client_field hostile tx) - t0)) $(($(wc -c < "$TB_DIR/sink.log") - k0))"
done

# server-to-client buffers 4 GiB from the region: the frames for the client (3 datagrams, and
# what the switch mirrors to it) are dropped malformed, nothing is written there
m0=$(drop malformed)
hostile bads2c bad-s2c "${PACED[@]}"
for i in 1 2 3; do printf x | in_peer socat -u - UDP:198.18.0.1:9; done
contained bads2c
assert_eq "bad-s2c: the frames for it counted malformed (3 datagrams at least)" 1 \
	$(($(drop malformed) - m0 >= 3))

# h) handshakes that break the protocol: refused with DISCONNECT and the reason (exit 2)
# refused NAME REASON ARGS...: a memif-hostile run that the server must refuse
refused() {
	local name=$1 why=$2 rc
	shift 2
	timeout 20 "$PMX_BUILD/tests/memif-hostile" --socket "$msock" --mode good --count 1 \
		--src-mac "$mac" --dst-mac "$pmac" "$@" > "$TB_DIR/$name.log" 2>&1
	rc=$?
	assert_eq "$name: refused ($why)" "2 1" \
		"$rc $(grep -c "server disconnected: .*$why" "$TB_DIR/$name.log")"
}
ring_id=$(pmx_req '{"cmd":"clients"}' | jq '.result.clients[] | select(.name == "portmux-echo") | .client_id')
refused wrong-secret "incorrect secret" --id "$mid" --secret 0123456789abcdef0123456
refused unknown-id "unknown interface id" --id 4000 --secret "$msecret"
refused ring-client-id "unknown interface id" --id "$ring_id" --secret "$msecret"
refused version "incompatible memif version" --id "$mid" --secret "$msecret" --break version
refused unsealed "not sealed against shrinking" --id "$mid" --secret "$msecret" --mode shrink
refused region-size "smaller than declared" --id "$mid" --secret "$msecret" --break region-size
refused ring-outside "ring not inside its region" --id "$mid" --secret "$msecret" --break ring-outside
refused ring-log2 "ring larger than" --id "$mid" --secret "$msecret" --break ring-log2
refused ring-region "ring in a region not added" --id "$mid" --secret "$msecret" --break ring-region
refused one-ring "one ring in each direction" --id "$mid" --secret "$msecret" --break one-ring
# a second connection for the same id while the first one runs
hostile first good "${PACED[@]}" --gap-us 10000
refused second "already connected" --id "$mid" --secret "$msecret"
contained first
assert_eq "after the refusals: portmuxd answers stats" true "$(stats | jq .ok)"

echo "final: $(stats | jq -c '{in_use: .result.mempool.in_use, drops: .result.drops}')"
assert_done
