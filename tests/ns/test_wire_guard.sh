#!/usr/bin/env bash
# test_wire_guard.sh - the wire belongs to the switch (wire_guard.c): with pmx-wire left at the
# kernel's defaults (IPv6 on, rp_filter 0, then 2), the appliance's kernel never answers on it.
# Under policy firewall a kernel listener outside "allow" (TCP :23 over IPv4, :24 over IPv6) is
# unreachable from the peer, and a TCP port a client owns gets no reset from the kernel; under
# pass, ping, :22, :23 and the client's echo work through the switch. The nftables table exists
# exactly once while portmuxd runs and is gone after a clean stop and after SIGKILL; a stale
# table of the same name is replaced, not doubled; the qdisc of the interface is not touched.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

SESSION="$PMX_ROOT/tests/tools/pmx_session.py"
tables() { in_app nft list tables | tr '\n' ' ' | sed 's/ $//'; }
qdisc() { in_app tc qdisc show dev pmx-wire; }
firewall_drops() { pmx_req '{"cmd":"stats"}' | jq '.result.drops.firewall'; }
# peer_tcp ADDR PORT [SECONDS]: what a connection from the peer gets within SECONDS (default
# 2): the banner, "refused" or "timeout"
peer_tcp() {
	local out wait=${3:-2}
	out=$(in_peer timeout $((wait * 2 + 2)) socat -T "$wait" - "TCP:$1:$2,connect-timeout=$wait" \
		< /dev/null 2>&1)
	case $out in
	*refused*) echo refused ;;
	*"timed out"* | "") echo timeout ;;
	*) echo "$out" ;;
	esac
}

pmx_hugepages 512
tb_up
assert_eq "pmx-wire starts with IPv6 on (kernel default)" 0 \
	"$(in_app sysctl -n net.ipv6.conf.pmx-wire.disable_ipv6)"
assert_eq "pmx-wire starts with arp_ignore 0 (kernel default)" 0 \
	"$(in_app sysctl -n net.ipv4.conf.pmx-wire.arp_ignore)"
qdisc_before=$(qdisc)
echo "before: tables [$(tables)], qdisc [$qdisc_before]"
assert_eq "before: no nftables table" "" "$(tables)"

tb_config firewall
tb_start_daemon
echo "during: tables [$(tables)], qdisc [$(qdisc)]"
in_app nft list table netdev portmux_pmx-wire
assert_eq "during: one table, of family netdev, for pmx-wire" "table netdev portmux_pmx-wire" \
	"$(tables)"
assert_match "the table goes with the daemon (owner flag)" "flags owner" \
	"$(in_app nft list table netdev portmux_pmx-wire)"
assert_eq "the interface's qdisc is not touched" "$qdisc_before" "$(qdisc)"
assert_match "the banner says so" "wire pmx-wire: the kernel is kept off it" "$(cat "$TB_LOG")"
assert_eq "portmuxd set accept_local on its kernel interface" 1 \
	"$(in_app sysctl -n net.ipv4.conf.pmx0.accept_local)"

tb_sshd
tb_bg k23 socat TCP4-LISTEN:23,fork,reuseaddr SYSTEM:'echo kernel-23'
tb_bg k24 socat TCP6-LISTEN:24,fork,reuseaddr,ipv6only=1 SYSTEM:'echo kernel-24'
tb_wait_for "kernel :23 and :24 listening" 100 \
	in_app sh -c "ss -ltn | grep -q ':23 ' && ss -ltn | grep -q ':24 '"
# a client owns TCP :8080 but does not answer (a session holding the rule, no stack)
tb_bg owner "$PMX_PY" "$SESSION" "$TB_SOCK" '{"cmd":"hello","name":"silent"}' \
	'{"cmd":"listen","proto":"tcp","port":8080}'
tb_wait_for "the client owns tcp :8080" 50 grep -q '"rule_id"' "$TB_DIR/owner.log"

for rp in 0 2; do
	in_app sysctl -qw "net.ipv4.conf.pmx-wire.rp_filter=$rp"
	before=$(firewall_drops)
	assert_eq "firewall, rp_filter $rp: kernel :23 (IPv4) unreachable from the peer" timeout \
		"$(peer_tcp 198.18.0.1 23)"
	assert_eq "firewall, rp_filter $rp: kernel :24 (IPv6) unreachable from the peer" timeout \
		"$(peer_tcp '[fd00::1]' 24)"
	assert_eq "firewall, rp_filter $rp: the SYNs are counted as firewall drops" 1 \
		$(($(firewall_drops) > before))
	assert_eq "rp_filter $rp: the client's silent TCP :8080 gets no reset from the kernel" \
		timeout "$(peer_tcp 198.18.0.1 8080)"
	assert_eq "firewall, rp_filter $rp: :22 (allowed) answered" SSH-2.0-kernel \
		"$(peer_tcp 198.18.0.1 22 8)"
done

assert_eq "set kernel policy pass" true \
	"$(pmx_req '{"cmd":"set_kernel_policy","policy":"pass"}' | jq .ok)"
tb_echo echo 7
out=$(in_peer ping -c 2 -i 0.2 -W 2 198.18.0.1)
assert_match "pass: ping answered by the kernel through the switch" "2 received" "$out"
out=$(in_peer ping -6 -c 2 -i 0.2 -W 2 fd00::1)
assert_match "pass: ping -6 answered by the kernel through the switch" "2 received" "$out"
assert_eq "pass: :22 answered" SSH-2.0-kernel "$(peer_tcp 198.18.0.1 22 8)"
assert_eq "pass: :23 answered through the switch" kernel-23 "$(peer_tcp 198.18.0.1 23 8)"
assert_eq "pass: :24 answered over IPv6 through the switch" kernel-24 "$(peer_tcp '[fd00::1]' 24 8)"
out=$(printf hello | in_peer timeout 5 socat -t 3 -T 3 - UDP:198.18.0.1:7 2>/dev/null)
assert_eq "pass: the client echoes on UDP :7" hello "$out"
assert_eq "pass: the silent client's TCP :8080 still gets no reset" timeout \
	"$(peer_tcp 198.18.0.1 8080)"

tb_stop_daemon
echo "after SIGTERM: tables [$(tables)], qdisc [$(qdisc)]"
assert_eq "after a clean stop: no table" "" "$(tables)"
assert_eq "after a clean stop: qdisc as before" "$qdisc_before" "$(qdisc)"

# a stale table of the same name (say, made by hand or by an older portmux) is replaced
in_app nft -f - <<'NFT'
table netdev portmux_pmx-wire {
	chain stale { type filter hook ingress device "pmx-wire" priority 0; policy accept; }
}
NFT
TB_CONF= tb_config pass
tb_start_daemon
assert_eq "restart over a stale table: still one table" "table netdev portmux_pmx-wire" \
	"$(tables)"
assert_eq "the stale chain is gone" "" \
	"$(in_app nft list table netdev portmux_pmx-wire | grep -o 'chain stale')"
kill -KILL "$TB_DAEMON_PID"
wait "$TB_DAEMON_PID" 2>/dev/null
TB_DAEMON_PID=
echo "after SIGKILL: tables [$(tables)]"
assert_eq "after SIGKILL: the kernel removed the table" "" "$(tables)"
rm -rf "/var/run/dpdk/$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_*
tb_start_daemon
assert_eq "restart after SIGKILL: one table" "table netdev portmux_pmx-wire" "$(tables)"
out=$(in_peer ping -c 2 -i 0.2 -W 2 198.18.0.1)
assert_match "restart after SIGKILL: ping answered through the switch" "2 received" "$out"
assert_eq "restart after SIGKILL: :23 reached through the switch only (pass)" kernel-23 \
	"$(peer_tcp 198.18.0.1 23 8)"
assert_done
