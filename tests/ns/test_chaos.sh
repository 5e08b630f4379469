#!/usr/bin/env bash
# test_chaos.sh - clients killed with SIGKILL and restarted in a loop while the peer sends to
# two or three of them: a steady stream of numbered datagrams to UDP 7 (a client that stays up), to
# UDP 9 (a client killed and restarted CHAOS_ROUNDS times, default 30, once it is serving; with
# CHAOS_KILL_STARTING=1 every fifth round kills it while it starts) and, with
# CHAOS_PAUSED_CLIENT=1, to UDP 11 (a client attached for the whole loop that never reads).
# Afterwards: the daemon is alive, the stable client echoed every datagram of its flow, no client
# and no rule of the killed ones remains, and the mempool's in-use count is back at its baseline
# (and the frames of a client that does not read were dropped as its own ring_full).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

ROUNDS=${CHAOS_ROUNDS:-30}
# CHAOS_KILL_STARTING=1: every fifth round kills the client inside its start-up (EAL init as a
# secondary). Off by default: a secondary killed inside rte_eal_init() can leave DPDK's shared
# multi-process state held (seen here: later secondaries hang in their init, and once the
# stable client's flow stalled for 2 s), which is DPDK's, not the switch's (docs/SECURITY.md).
KILL_STARTING=${CHAOS_KILL_STARTING:-0}
# CHAOS_PAUSED_CLIENT=1: a third client on UDP 11 stays attached and never reads. Off by
# default until it has passed on a quiet machine: the runs made so far were on a shared machine
# (load 15-30 on 2 CPUs) where the peer's datagrams to every port were lost by the thousand,
# with or without it, before the switch saw them (the NIC's ipackets short, no drop counted):
# the RX lcore starved of CPU. docs/SECURITY.md.
PAUSED=${CHAOS_PAUSED_CLIENT:-0}
PORTS=7,9
RATE=100 # datagrams per second to each port
ECHO=$PMX_BUILD/app/portmux-echo/portmux-echo
stats() { pmx_req '{"cmd":"stats"}'; }
n_clients() { pmx_req '{"cmd":"clients"}' | jq '.result.clients | length'; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_bg stable env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" 7
tb_wait_for "stable client listening" 100 grep -q listening "$TB_DIR/stable.log"
stable_id=$(pmx_req '{"cmd":"clients"}' | jq '.result.clients[0].client_id')
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null # ARP settled before the baseline
baseline=$(stats | jq '.result.mempool.in_use')
rules_before=$(stats | jq '.result.flow_table.rules')
echo "baseline: $baseline mbufs in use, $rules_before rule(s), stable client $stable_id"
if ((PAUSED)); then
	# a client that stays attached but never reads (the golden tests' capture client, paused)
	tb_bg stopped "$PMX_BUILD/tests/golden/pmx-capture" -s "$TB_SOCK" \
		-o "$TB_DIR/stopped.pcap" -n stopped -p 'listen,udp,*,11'
	tb_wait_for "client on UDP 11 ready" 100 grep -q '^ready' "$TB_DIR/stopped.log"
	PORTS=7,9,11
fi

# the stream runs for the whole loop (bounded: at most 10 minutes)
tb_bg_peer stream "$PMX_PY" "$(dirname "$0")/udp_stream.py" 198.18.0.1 "$TB_DIR/stop" "$RATE" \
	600 "$PORTS"

CHAOS_PID=
tb_on_exit '[ -z "$CHAOS_PID" ] || { kill -KILL $CHAOS_PID; wait $CHAOS_PID; }'
rounds=0 killed_starting=0 start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	ip netns exec "$TB_APP" env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" 9 \
		> "$TB_DIR/chaos.log" 2>&1 < /dev/null &
	CHAOS_PID=$!
	if ((KILL_STARTING && r % 5 == 0)); then
		# killed while starting: before hello, between hello and EAL attach, or just after
		sleep "0.$((RANDOM % 5))"
		killed_starting=$((killed_starting + 1))
	else
		tb_wait_for "round $r: client on UDP 9 listening" 300 \
			grep -q listening "$TB_DIR/chaos.log" || { cat "$TB_DIR/chaos.log"; break; }
		sleep "0.$((RANDOM % 3))" # frames in its rings when it dies
	fi
	kill -KILL "$CHAOS_PID"
	wait "$CHAOS_PID" 2> /dev/null
	CHAOS_PID=
	tb_wait_for "round $r: killed client detached" 100 \
		sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq $((1 + PAUSED)) ]" ||
		break
	kill -0 "$TB_DAEMON_PID" 2> /dev/null || break
	rounds=$r
done
echo "chaos: $rounds of $ROUNDS rounds in $((SECONDS - start)) s ($killed_starting killed while starting)"
echo "frames the daemon took back from killed clients' rings: $(grep -o '[0-9]* queued frames freed' \
	"$TB_LOG" | awk '{s += $1} END {print s + 0}')"
echo "mbufs recovered from killed clients' hands (swept once their process ended): $(stats |
	jq '.result.mempool.recovered')"
touch "$TB_DIR/stop"
tb_wait_for "stream results" 100 grep -q "^port ${PORTS##*,}" "$TB_DIR/stream.log"
cat "$TB_DIR/stream.log"
if ((PAUSED)); then
	stopped=$(pmx_req '{"cmd":"clients"}' |
		jq -c '.result.clients[] | select(.client_id != '"$stable_id"')')
	echo "client that does not read: $(jq -c '{rx, ring_full, rx_ring_count}' <<< "$stopped")"
	assert_eq "a client that does not read loses its own frames, counted ring_full" 1 \
		"$(jq '.ring_full > 0 and .rx_ring_count > 0' <<< "$stopped" | grep -c true)"
	kill -KILL "$TB_PID_stopped"
	tb_wait_for "client that does not read detached" 100 \
		sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 1 ]"
fi

assert_eq "rounds completed" "$ROUNDS" "$rounds"
assert_eq "the daemon survived" 0 "$(kill -0 "$TB_DAEMON_PID" 2> /dev/null; echo $?)"
line=$(grep '^port 7:' "$TB_DIR/stream.log")
echo "stream: $line"
echo "peer's UDP receive errors (a loss there is the peer's, not the switch's):" \
	"$(in_peer nstat -az UdpRcvbufErrors UdpInErrors | awk 'NR > 1 {printf "%s %s ", $1, $2}')"
assert_match "stable client's flow: no datagram lost" "missing 0 " "$line"
sent7=$(awk '{print $4}' <<< "$line")
assert_eq "stable flow carried traffic the whole time (>= 2 s worth)" 1 $((sent7 >= 2 * RATE))
assert_eq "only the stable client is attached" "$stable_id" \
	"$(pmx_req '{"cmd":"clients"}' | jq -c '[.result.clients[].client_id] | join(",")' -r)"
assert_eq "no stale rule: only the stable client's remain" "$rules_before" \
	"$(stats | jq '.result.flow_table.rules')"
assert_eq "every rule belongs to the stable client" "" \
	"$(pmx_req '{"cmd":"rules"}' | jq -r ".result.rules[] | select(.owner.client_id != $stable_id) | .rule_id")"
tb_wait_for "mempool back to its baseline" 50 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
assert_eq "mempool in use back to baseline" "$baseline" "$(stats | jq '.result.mempool.in_use')"
echo "final: $(stats | jq -c '{in_use: .result.mempool.in_use, rules: .result.flow_table.rules, drops: .result.drops, nic: .result.ports[0].nic}')"
assert_done
