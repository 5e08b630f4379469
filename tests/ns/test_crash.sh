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
assert_done
