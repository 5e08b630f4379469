#!/usr/bin/env bash
# test_firewall.sh - kernel policy "firewall" (allow tcp:22, icmp, icmpv6): a peer's connection to
# an unlisted kernel port (:2222) times out and is counted, while :22, ping and connections the
# kernel opens itself (TCP and UDP, learned from what it sends) work.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

firewall_drops() { pmx_req '{"cmd":"stats"}' | jq '.result.drops.firewall'; }
# caught_up: the switch has handled every frame the peer sent so far (a loaded machine may
# leave its RX lcore a second or more behind the wire): one queue keeps the wire's order, so
# the kernel's answer to an allowed ping sent now says that all before it were counted.
caught_up() {
	in_peer ping -c 1 -W 10 198.18.0.1 > /dev/null
	assert_eq "the marker ping is answered (the switch has caught up with the wire)" 0 $?
}

pmx_hugepages 512
tb_up
tb_config firewall
tb_start_daemon
tb_bg ssh22 socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo SSH-2.0-kernel'
tb_bg other2222 socat TCP-LISTEN:2222,fork,reuseaddr SYSTEM:'echo unlisted'
tb_bg_peer web socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo peer-web'
# the answering child reads the query first: socat writes it to the child's stdin and, if
# 'echo' had already exited, dies of EPIPE before sending the reply
tb_bg_peer dns socat UDP-RECVFROM:5353,fork SYSTEM:'dd count=1 status=none of=/dev/null; echo peer-dns'
tb_wait_for "kernel :22 and :2222 listening" 100 \
	in_app sh -c "ss -ltn | grep -q ':22 ' && ss -ltn | grep -q ':2222 '"
tb_wait_for "peer :8080 and :5353 listening" 100 \
	in_peer sh -c "ss -ltn | grep -q ':8080 ' && ss -lun | grep -q ':5353 '"
assert_eq "policy is firewall" firewall "$(pmx_req '{"cmd":"stats"}' | jq -r .result.kernel_policy)"

# replies: -w, not -W: once a reply came, ping waits only twice the round trip for the others
# (-W is for the first), and a reply the loaded switch hands on half a second late counted as
# lost; with -w ping waits (at most 10 s) for 2 replies, sending on meanwhile
replies() {
	local n
	n=$(in_peer ping "$@" -c 2 -i 0.2 -w 10 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	echo "${n:-0}"
}
assert_eq "ping (icmp allowed) answered by the kernel (2 replies)" 1 $(($(replies 198.18.0.1) >= 2))
assert_eq "ping -6 (icmpv6 allowed, ND passes) answered by the kernel (2 replies)" 1 \
	$(($(replies -6 fd00::1) >= 2))
# multicast follows the same policy: the peer's MLD reports (ICMPv6 to ff02::16, sent for a few
# seconds after its link came up) and an echo request to all nodes are ICMPv6, allowed
caught_up
# a multicast echo leaves the peer from its link-local address: until that address is past
# duplicate address detection (about a second after the link came up) the peer's kernel sends
# nothing at all (seen with tcpdump on its eth0: no echo request before its router solicitation)
tb_wait_for "the peer's link-local address past DAD" 50 in_peer sh -c \
	"ip -6 addr show dev eth0 scope link | grep -q inet6 &&
	 ! ip -6 addr show dev eth0 scope link | grep -q tentative"
drops=$(firewall_drops)
echos=$(in_app awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6)
in_peer ping -6 -c 1 -W 2 -I eth0 ff02::1 > /dev/null 2>&1
tb_wait_for "the kernel's Icmp6InEchos above $echos" 30 ip netns exec "$TB_APP" \
	awk -v n="$echos" '$1 == "Icmp6InEchos" { exit !($2 > n) }' /proc/net/snmp6
assert_eq "ping -6 ff02::1 (icmpv6 allowed, multicast) reaches the kernel" 1 $(($(in_app awk \
	'$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6) > echos))
assert_eq "... and is not dropped as firewall" "$drops" "$(firewall_drops)"
out=$(in_peer timeout 8 socat -t 5 -T 5 - TCP:198.18.0.1:22 < /dev/null)
assert_eq "TCP :22 (allowed) reaches the kernel" "SSH-2.0-kernel" "$out"

before=$(firewall_drops)
out=$(in_peer timeout 5 socat -T 2 - TCP:198.18.0.1:2222,connect-timeout=2 < /dev/null 2>&1)
rc=$?
assert_eq "TCP :2222 (not allowed) gets no answer" "" "$(grep -o unlisted <<< "$out")"
assert_eq "TCP :2222 times out (no RST either)" 1 $((rc != 0))
assert_match "socat reports a timeout" "imed out" "$out"
caught_up # the SYNs sent before socat gave up are all counted
after=$(firewall_drops)
assert_eq "the SYNs to :2222 are counted as firewall drops" 1 $((after > before))

out=$(in_app timeout 8 socat -t 5 -T 5 - TCP:198.18.0.2:8080 < /dev/null)
assert_eq "a TCP connection the kernel opens gets its replies" "peer-web" "$out"
out=$(printf query | in_app timeout 8 socat -t 3 -T 3 - UDP:198.18.0.2:5353)
assert_eq "a UDP exchange the kernel starts gets its reply" "peer-dns" "$out"
caught_up
assert_eq "kernel-initiated traffic dropped nothing" "$after" "$(firewall_drops)"
assert_done
