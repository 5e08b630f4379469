#!/usr/bin/env bash
# test_offloads.sh - portmuxd owns the offload features of the kernel interface it takes as a
# NIC port (nic_offloads.c). pmx-wire gets GRO, GRO lists and UDP GRO forwarding turned ON
# before portmuxd starts (as a physical NIC has GRO); the features are printed before, during
# and after each run. Covers: at the veth defaults (GRO off) nothing is changed, logged or
# recorded; with them on, all three are off while portmuxd runs (each logged, listed in the
# state file next to the control socket) and back on after a clean stop, the state file gone;
# after SIGKILL they stay off and the state file stays; the next start says so, and its clean
# stop turns them back on; a start that fails after the port was taken (no such control group)
# restores them too; a second portmuxd on the same interface is refused by the wire guard before
# it touches them (it would take the first one's state file for a crashed run's); without
# CAP_NET_ADMIN start-up stops with a message naming the interface and the capability, and
# changes nothing. (A feature a driver keeps [fixed] on stops start-up as well, naming it: no
# veth has one; tests/unit/test_nic_offloads.c covers that decision.)
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
MERGING="rx-gro rx-gro-list rx-udp-gro-forwarding"
# features: the three of pmx-wire as "name:on name:off ..." (generic-receive-offload is rx-gro)
features() {
	in_app ethtool -k pmx-wire | sed 's/generic-receive-offload/rx-gro/' |
		awk '$1 == "rx-gro:" || $1 == "rx-gro-list:" || $1 == "rx-udp-gro-forwarding:" {
			sub(":", "", $1); printf "%s%s:%s", sep, $1, $2; sep = " " }'
}
show() { echo "$1: $(in_app ethtool -k pmx-wire | grep -E 'receive-offload|gro|lro|rx-fcs' |
	tr -s '\t\n' '  ')"; }
# ping_through: "ok" once a ping from the peer is answered (5 tries of 2 s: a shared machine)
ping_through() {
	tb_wait_for "a ping answered through the switch" 5 in_peer ping -c 1 -W 2 198.18.0.1 && echo ok
}
STATE_FILE() { echo "$TB_DIR/offloads-pmx-wire.state"; }
ALL_ON="rx-gro:on rx-gro-list:on rx-udp-gro-forwarding:on"
ALL_OFF="rx-gro:off rx-gro-list:off rx-udp-gro-forwarding:off"

pmx_hugepages 512
tb_up

say "at the veth defaults (GRO off): nothing to change"
show "before"
assert_eq "veth default: the three off" "$ALL_OFF" "$(features)"
tb_start_daemon
show "during"
assert_eq "nothing logged" "" "$(grep 'offloads:' "$TB_LOG")"
assert_eq "no state file" "" "$(ls "$(STATE_FILE)" 2> /dev/null)"
tb_stop_daemon
assert_eq "after: still off" "$ALL_OFF" "$(features)"

say "GRO on (as on a physical NIC), clean stop"
# what a physical NIC has on, which portmuxd must turn off and restore
in_app ethtool -K pmx-wire gro on rx-gro-list on rx-udp-gro-forwarding on # on purpose
show "before"
assert_eq "before: the three on" "$ALL_ON" "$(features)"
tb_start_daemon
show "during"
assert_eq "during: the three off" "$ALL_OFF" "$(features)"
for f in $MERGING; do
	assert_match "the log names $f" "offloads: pmx-wire: $f off" "$(cat "$TB_LOG")"
	assert_match "the state file lists $f" "on $f" "$(cat "$(STATE_FILE)" 2> /dev/null)"
done
echo "state file: $(grep -v '^#' "$(STATE_FILE)" | tr '\n' ' ')"
assert_eq "the switch carries ping (the wire's traffic flows)" ok "$(ping_through)"
tb_stop_daemon
show "after a clean stop"
assert_eq "after a clean stop: the three on again" "$ALL_ON" "$(features)"
assert_eq "after a clean stop: no state file" "" "$(ls "$(STATE_FILE)" 2> /dev/null)"

say "SIGKILL, then a restart"
tb_start_daemon
assert_eq "during: the three off" "$ALL_OFF" "$(features)"
kill -KILL "$TB_DAEMON_PID"
wait "$TB_DAEMON_PID" 2> /dev/null
TB_DAEMON_PID=
rm -rf "/var/run/dpdk/$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_*
show "after SIGKILL"
assert_eq "after SIGKILL: still off (nobody restored them)" "$ALL_OFF" "$(features)"
assert_match "after SIGKILL: the state file keeps the operator's values" "on rx-gro" \
	"$(cat "$(STATE_FILE)" 2> /dev/null)"
mv "$TB_LOG" "$TB_DIR/portmuxd-killed.log"
tb_start_daemon
show "during the restart"
assert_match "the restart says what the killed run left" \
	"offloads: pmx-wire: a portmuxd that did not stop cleanly turned off rx-gro" \
	"$(cat "$TB_LOG")"
assert_eq "during the restart: the three off" "$ALL_OFF" "$(features)"
assert_eq "restart: the switch carries ping" ok "$(ping_through)"
tb_stop_daemon
show "after the restart's clean stop"
assert_eq "after the restart's clean stop: the operator's values (on)" "$ALL_ON" "$(features)"
assert_eq "and no state file" "" "$(ls "$(STATE_FILE)" 2> /dev/null)"

say "a start that fails after the port was taken restores them"
jq '.control.group = "pmx-no-such-group"' "$TB_CONF" > "$TB_DIR/nogroup.json"
timeout 60 ip netns exec "$TB_APP" "$DAEMON" -c "$TB_DIR/nogroup.json" \
	> "$TB_DIR/nogroup.out" 2> "$TB_DIR/nogroup.err" < /dev/null
assert_eq "no such group: exit status 1" 1 "$?"
assert_match "the error names the key" control.group "$(cat "$TB_DIR/nogroup.err")"
assert_match "it had turned rx-gro off" "offloads: pmx-wire: rx-gro off" \
	"$(cat "$TB_DIR/nogroup.err" "$TB_DIR/nogroup.out")"
show "after the failed start"
assert_eq "after the failed start: the three on" "$ALL_ON" "$(features)"
assert_eq "after the failed start: no state file" "" "$(ls "$(STATE_FILE)" 2> /dev/null)"
rm -rf /var/run/dpdk/"$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_*

say "a second portmuxd on the same interface is refused and changes nothing"
tb_start_daemon
assert_eq "the first one runs: the three off" "$ALL_OFF" "$(features)"
timeout 60 ip netns exec "$TB_APP" "$DAEMON" -c "$TB_CONF" -- --file-prefix "${TB_PREFIX}b" \
	> "$TB_DIR/second.out" 2> "$TB_DIR/second.err" < /dev/null
assert_eq "the second one: exit status 1" 1 "$?"
assert_match "the second one: refused at the wire guard" \
	'ports[0].device: interface "pmx-wire": cannot keep the kernel off it' \
	"$(cat "$TB_DIR/second.err")"
assert_eq "the second one did not restore the first one's features" "$ALL_OFF" "$(features)"
assert_match "the first one's state file stays" "on rx-gro" "$(cat "$(STATE_FILE)" 2> /dev/null)"
rm -rf /var/run/dpdk/"${TB_PREFIX}b" /dev/hugepages/"${TB_PREFIX}b"map_*
tb_stop_daemon
assert_eq "the first one's clean stop: the three on" "$ALL_ON" "$(features)"

say "without CAP_NET_ADMIN: start-up stops, naming the interface and the capability"
timeout 60 ip netns exec "$TB_APP" setpriv --bounding-set=-net_admin "$DAEMON" -c "$TB_CONF" \
	> "$TB_DIR/noadmin.out" 2> "$TB_DIR/noadmin.err" < /dev/null
rc=$?
grep portmuxd: "$TB_DIR/noadmin.err"
assert_eq "noadmin: exit status 1" 1 "$rc"
# the wire guard (nftables) comes first and needs the same capability
assert_match "noadmin: the message names the interface" \
	'ports[0].device: interface "pmx-wire": cannot keep the kernel off it' \
	"$(cat "$TB_DIR/noadmin.err")"
assert_match "noadmin: the message names the capability" CAP_NET_ADMIN \
	"$(cat "$TB_DIR/noadmin.err")"
assert_eq "noadmin: nothing changed" "$ALL_ON" "$(features)"
assert_eq "noadmin: no state file" "" "$(ls "$(STATE_FILE)" 2> /dev/null)"
rm -rf /var/run/dpdk/"$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_*
assert_done
