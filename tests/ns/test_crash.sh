#!/usr/bin/env bash
# test_crash.sh - a client killed with SIGKILL: its port stops answering, its rules are gone,
# every mbuf it held in its rings goes back to the pool, and a new client attaches clean.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

in_use() { pmx_req '{"cmd":"stats"}' | jq '.result.mempool.in_use'; }
udp_echo() { printf '%s' "$1" | in_peer timeout 5 socat -t 3 -T 3 - UDP:198.18.0.1:7 2>/dev/null; }

pmx_hugepages 512
tb_up
tb_start_daemon
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null # ARP settled before the baseline
baseline=$(in_use)

tb_echo echo 7
assert_eq "client answers before the crash" "before" "$(udp_echo before)"

# frames queued for the client while it is stopped stay in its ring: the crash must free them
kill -STOP "$TB_PID_echo"
for i in $(seq 1 20); do printf 'queued-%s' "$i" | in_peer socat -u - UDP:198.18.0.1:7; done
tb_wait_for "20 frames queued in the client's ring" 50 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients[0].rx_ring_count') -ge 20 ]"
held=$(in_use)
assert_eq "queued frames are counted in use" 1 $((held >= baseline + 20))

kill -KILL "$TB_PID_echo"
tb_wait_for "client detached" 50 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 0 ]"
assert_eq "no rules left after the crash" 0 "$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
assert_eq "UDP :7 gets no answer after the crash" "" "$(udp_echo after)"
tb_wait_for "mempool back to its baseline" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
assert_eq "mempool in use back to baseline ($baseline)" "$baseline" "$(in_use)"

# the slot is reused: a new client starts clean and answers
tb_echo echo2 7
assert_eq "a new client answers after re-attach" "again" "$(udp_echo again)"
assert_eq "the new client's counters start afresh (not the 21+ of the old one)" true \
	"$(pmx_req '{"cmd":"clients"}' | jq '.result.clients[0].rx < 20')"

# frames a client holds in its own hands when it dies (dequeued, neither freed nor sent) come
# back too, once its process has exited: each was marked as its own (lib/dataplane/mbuf_home.h)
mempool() { pmx_req '{"cmd":"stats"}' | jq ".result.mempool.$1"; }
holder_held() { pmx_req '{"cmd":"clients"}' | jq '.result.clients[] | select(.name == "holder") | .held'; }
recovered_before=$(mempool recovered)
baseline=$(in_use)
tb_bg holder "$PMX_BUILD/tests/golden/pmx-capture" -s "$TB_SOCK" -o "$TB_DIR/holder.pcap" \
	-n holder -k 5 'listen,udp,*,11'
tb_wait_for "client on UDP 11 ready" 100 grep -q '^ready' "$TB_DIR/holder.log"
for i in $(seq 1 5); do printf 'held-%s' "$i" | in_peer socat -u - UDP:198.18.0.1:11; done
tb_wait_for "5 frames in the client's hands" 50 grep -q '^kept 5' "$TB_DIR/holder.log"
tb_wait_for "the switch counts them held by the client" 50 sh -c "[ \"\$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients[] | select(.name == \"holder\") | .held')\" = 5 ]"
assert_eq "held: the 5 frames in its hands" 5 "$(holder_held)"
assert_eq "they are in use" $((baseline + 5)) "$(in_use)"
kill -KILL "$TB_PID_holder"
tb_wait_for "holder detached" 50 sh -c \
	"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 1 ]"
tb_wait_for "mempool back to its baseline after the holder" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.mempool.in_use') -eq $baseline ]"
assert_eq "mempool in use back to baseline ($baseline) after the holder" "$baseline" "$(in_use)"
assert_eq "recovered: exactly the 5 it held" $((recovered_before + 5)) "$(mempool recovered)"
assert_eq "no detached client whose process lives" 0 "$(mempool held_by_gone_clients)"
assert_done
