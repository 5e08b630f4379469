#!/usr/bin/env bash
# test_latency.sh - the latency histograms on the testbed: N datagrams from the wire to a ring
# client (portmux-echo on UDP :7) give its histogram at least N samples with
# 0 < p50 <= p99 <= max, the same in stats, in "show latency" and in rte_telemetry
# (/portmux/latency and /portmux/clients); "clear port stats all" empties it, and traffic after
# the clear fills it again. Then portmux-echo's two poll modes side by side (a second client
# with --busy-poll on UDP :8): each echoes every datagram, the busy one never sleeps (its
# thread makes no voluntary context switch while idle), the default one does; their latency
# and CPU over the same traffic and an idle spell are printed (POLL_S seconds each, default 2;
# the README's figures come from POLL_S=10 POLL_N=2000). No latency figure is asserted:
# latency on a shared VM is the benchmark's business (tools/bench/run.sh --latency).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

# send N [PORT]: N datagrams from the peer, one at a time; prints the echoes received
send() { tb_udp_ask "$1" "${2:-7}"; }

# lat [NAME]: the latency object of client NAME (default portmux-echo) from stats
lat() {
	pmx_req '{"cmd":"stats"}' |
		jq -c --arg n "${1:-portmux-echo}" '.result.clients[] | select(.name == $n) | .latency'
}

# cpu_ticks PID: the process's user + system time, in clock ticks (/proc/PID/stat)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# vol_switches PID: voluntary context switches of the process's main thread (the poll loop)
vol_switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/task/$1/status"; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_echo echo 7

l=$(lat)
assert_eq "stats: latency fields of a client" '["max_ns","p50_ns","p99_ns","samples"]' \
	"$(jq -c 'keys' <<< "$l")"

N=50
assert_eq "$N datagrams echoed" "$N" "$(send $N)"
l=$(lat)
echo "latency after $N datagrams: $l"
assert_eq "samples >= $N" true "$(jq ".samples >= $N" <<< "$l")"
assert_eq "0 < p50 <= p99 <= max" true \
	"$(jq '.p50_ns > 0 and .p50_ns <= .p99_ns and .p99_ns <= .max_ns' <<< "$l")"

# the operator's view
out=$(tb_ctl show latency)
echo "$out"
assert_eq "show latency: a row for the client with its figures" 1 \
	"$(grep -cE 'portmux-echo +ring +[0-9]+( +[0-9.]+ [num]s){3}$' <<< "$out")"

# telemetry: the same keys, the same client
t=$(tb_telemetry /portmux/latency)
id=$(pmx_req '{"cmd":"stats"}' | jq -r '.result.clients[] | select(.name == "portmux-echo") | .client_id')
assert_eq "telemetry /portmux/latency: the client's keys" \
	'["client_id","max_ns","name","p50_ns","p99_ns","samples"]' "$(jq -c ".\"$id\" | keys" <<< "$t")"
assert_eq "telemetry /portmux/latency: samples >= $N" true "$(jq ".\"$id\".samples >= $N" <<< "$t")"
assert_eq "telemetry /portmux/clients: latency/p99_ns" true \
	"$(tb_telemetry /portmux/clients | jq ".\"$id\" | has(\"latency/p99_ns\")")"

# clear: empty at once, then filled again by new traffic only
tb_ctl clear port stats all > /dev/null
samples_before=$(jq .samples <<< "$l")
# (ARP/ND/multicast copies from the peer may arrive meanwhile: a few samples, not the $N+)
assert_eq "cleared: at most a few samples (copies of ARP/ND), not the $samples_before before" \
	true "$(lat | jq ".samples < 5")"
assert_eq "5 datagrams echoed after the clear" 5 "$(send 5)"
l=$(lat)
assert_eq "after the clear: 5 samples or a few more (ARP copies), fewer than before" true \
	"$(jq ".samples >= 5 and .samples < $samples_before" <<< "$l")"

# ---- the two poll modes: the default (echo, :7) and --busy-poll (echo-busy, :8) ----
POLL_S=${POLL_S:-2} POLL_N=${POLL_N:-200}
tb_echo busy --busy-poll -n echo-busy 8
assert_match "--busy-poll: the client says it polls busy" "polls busy (never sleeps)" \
	"$(cat "$TB_DIR/busy.log")"
assert_match "default: the client says it sleeps when idle" "polls with sleeps when idle" \
	"$(cat "$TB_DIR/echo.log")"
sleep_pid=$TB_PID_echo busy_pid=$TB_PID_busy
assert_eq "the PIDs are the echo clients'" "portmux-echo portmux-echo" \
	"$(cat "/proc/$sleep_pid/comm") $(cat "/proc/$busy_pid/comm")"
hz=$(getconf CLK_TCK)
# idle: both wait POLL_S seconds for traffic
c0=("$(cpu_ticks "$sleep_pid")" "$(cpu_ticks "$busy_pid")")
v0=("$(vol_switches "$sleep_pid")" "$(vol_switches "$busy_pid")")
sleep "$POLL_S"
c1=("$(cpu_ticks "$sleep_pid")" "$(cpu_ticks "$busy_pid")")
v1=("$(vol_switches "$sleep_pid")" "$(vol_switches "$busy_pid")")
echo "idle ${POLL_S} s: CPU default $(((c1[0] - c0[0]) * 100 / hz / POLL_S)) %," \
	"busy $(((c1[1] - c0[1]) * 100 / hz / POLL_S)) %; voluntary context switches default" \
	"$((v1[0] - v0[0])), busy $((v1[1] - v0[1]))"
# the default sleeps ~50 us (plus timer slack) per empty pass: thousands of sleeps a second
assert_eq "idle, default: its poll loop sleeps (>= 100 voluntary switches in $POLL_S s)" true \
	"$([ $((v1[0] - v0[0])) -ge 100 ] && echo true || echo false)"
# busy: no sleep, no blocking call (the control socket is peeked without waiting)
assert_eq "idle, --busy-poll: its poll loop never sleeps (< 20 voluntary switches)" true \
	"$([ $((v1[1] - v0[1])) -lt 20 ] && echo true || echo false)"
# traffic: POLL_N datagrams one at a time to each, each client's CPU over its own turn
tb_ctl clear port stats all > /dev/null
for mode in default busy; do
	if [ $mode = default ]; then pid=$sleep_pid port=7 name=portmux-echo; else
		pid=$busy_pid port=8 name=echo-busy; fi
	c0=$(cpu_ticks "$pid") t0=$(date +%s%N)
	assert_eq "$mode: $POLL_N datagrams echoed" "$POLL_N" "$(send "$POLL_N" $port)"
	c1=$(cpu_ticks "$pid") t1=$(date +%s%N)
	l=$(lat $name)
	echo "$mode: $POLL_N datagrams in $(((t1 - t0) / 1000000)) ms, CPU" \
		"$(((c1 - c0) * 1000 / hz)) ms ($(((c1 - c0) * 100 * 1000000000 / hz / (t1 - t0))) %);" \
		"NIC RX -> dequeue $l"
	assert_eq "$mode: samples >= $POLL_N" true "$(jq ".samples >= $POLL_N" <<< "$l")"
done
assert_done
