#!/usr/bin/env bash
# test_chaos.sh - clients killed with SIGKILL and restarted in a loop while the peer sends to
# two of them: a steady stream of numbered datagrams to UDP 7 (a client that stays up) and to
# UDP 9 (a client killed and restarted CHAOS_ROUNDS times, default 30; every fifth round it is
# killed while still starting, before or during its attach). Afterwards: the daemon is alive,
# the stable client echoed every datagram of its flow, no client and no rule of the killed ones
# remains, and the mempool's in-use count is back at its baseline.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

ROUNDS=${CHAOS_ROUNDS:-30}
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

# the stream runs for the whole loop (bounded: at most 10 minutes)
tb_bg_peer stream "$PMX_PY" "$(dirname "$0")/udp_stream.py" 198.18.0.1 "$TB_DIR/stop" "$RATE" \
	600 7,9

CHAOS_PID=
tb_on_exit '[ -z "$CHAOS_PID" ] || { kill -KILL $CHAOS_PID; wait $CHAOS_PID; }'
rounds=0 killed_starting=0 start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	ip netns exec "$TB_APP" env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" 9 \
		> "$TB_DIR/chaos.log" 2>&1 < /dev/null &
	CHAOS_PID=$!
	if ((r % 5 == 0)); then
		# killed while starting: before hello, between hello and EAL attach, or just after
		sleep "0.$((RANDOM % 5))"
		killed_starting=$((killed_starting + 1))
	else
		tb_wait_for "round $r: client on UDP 9 listening" 100 \
			grep -q listening "$TB_DIR/chaos.log" || break
		sleep "0.$((RANDOM % 3))" # frames in its rings when it dies
	fi
	kill -KILL "$CHAOS_PID"
	wait "$CHAOS_PID" 2> /dev/null
	CHAOS_PID=
	tb_wait_for "round $r: killed client detached" 100 \
		sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 1 ]" ||
		break
	kill -0 "$TB_DAEMON_PID" 2> /dev/null || break
	rounds=$r
done
echo "chaos: $rounds of $ROUNDS rounds in $((SECONDS - start)) s ($killed_starting killed while starting)"
echo "frames the daemon took back from killed clients' rings: $(grep -o '[0-9]* queued frames freed' \
	"$TB_LOG" | awk '{s += $1} END {print s + 0}')"
touch "$TB_DIR/stop"
tb_wait_for "stream results" 100 grep -q '^port 9' "$TB_DIR/stream.log"
cat "$TB_DIR/stream.log"

assert_eq "rounds completed" "$ROUNDS" "$rounds"
assert_eq "the daemon survived" 0 "$(kill -0 "$TB_DAEMON_PID" 2> /dev/null; echo $?)"
line=$(grep '^port 7:' "$TB_DIR/stream.log")
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
echo "final: $(stats | jq -c '{in_use: .result.mempool.in_use, rules: .result.flow_table.rules, drops: .result.drops}')"
assert_done
