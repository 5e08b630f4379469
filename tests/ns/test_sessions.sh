#!/usr/bin/env bash
# test_sessions.sh - several client sessions in one process (libportmux-client's
# pmx_client_open_more(), as pmx-sink uses it): each session is a client of its own with its
# own rules, receives its own port's frames on the process's one lcore, and detaches cleanly
# (rules and slots freed) when the process closes them, the first session last.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

SINK=$PMX_BUILD/tools/bench/pmx-sink
[ -x "$SINK" ] || die "$SINK missing: build first"
clients() { pmx_req '{"cmd":"clients"}' | jq -c '[.result.clients[].name] | sort'; }
n_rules() { pmx_req '{"cmd":"rules"}' | jq '.result.rules | length'; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_bg sink "$SINK" -s "$TB_SOCK" -n 3 -p 10000 -d 0 -q
tb_wait_for "the sink's 3 sessions" 100 grep -q "ready, 3 sessions" "$TB_DIR/sink.log"
assert_eq "3 clients from one process" '["pmx-sink-0","pmx-sink-1","pmx-sink-2"]' "$(clients)"
assert_eq "each session its own listening rule" 3 "$(n_rules)"

# 5 datagrams to the third session's port (10002): its rule matches them, the others' do not
for i in 1 2 3 4 5; do
	printf 'datagram-%s' "$i" | in_peer socat -u - UDP:198.18.0.1:10002
done
hits() { pmx_req '{"cmd":"rules"}' | jq -c '[.result.rules[] | [.local_port, .hits]] | sort'; }
tb_wait_for "5 hits on 10002" 100 sh -c "printf '%s\n' '{\"cmd\":\"rules\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq -e '.result.rules[] | select(.local_port == 10002 and .hits >= 5)'"
assert_eq "only the third session's rule matched" "[[10000,0],[10001,0],[10002,5]]" "$(hits)"

# the process closes its sessions: every one detaches
kill -TERM "$TB_PID_sink"
tb_wait_for "the sink's totals" 100 grep -q "^pmx-sink: total" "$TB_DIR/sink.log"
third=$(sed -n 's/^pmx-sink: total [0-9]* frames \[[0-9]* [0-9]* \([0-9]*\)\]$/\1/p' "$TB_DIR/sink.log")
[ "${third:-0}" -ge 5 ] && ok=1 || ok=0 # and the broadcasts every client gets
assert_eq "the third session drained its frames on the process's lcore" 1 "$ok"
tb_wait_for "no clients left" 100 sh -c "[ \"\$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length')\" = 0 ]"
assert_eq "every session detached" "[]" "$(clients)"
assert_eq "and its rules are gone" 0 "$(n_rules)"
assert_done
