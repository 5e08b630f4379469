#!/usr/bin/env bash
# test_ipv6.sh - the appliance over IPv6 (fd00::/64 on the veth): neighbour discovery and ping -6
# answered by the kernel, TCP to the kernel on [fd00::1]:22, UDP echo by a client on [fd00::1]:7
# (and none of the client's datagrams reach the kernel).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

udp6_noports() { in_app awk '$1 == "Udp6NoPorts" {print $2}' /proc/net/snmp6; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_bg sshd socat TCP6-LISTEN:22,fork,reuseaddr SYSTEM:'echo SSH-2.0-kernel-v6'
tb_echo echo 7
tb_wait_for "kernel [::]:22 listening" 100 in_app sh -c "ss -ltn6 | grep -q ':22 '"
noports_before=$(udp6_noports)

# ND through the switch (NS mirrored to the kernel, its NA back to the wire), then echo
out=$(in_peer ping -6 -c 3 -i 0.2 -W 2 fd00::1)
assert_match "ping -6 answered by the kernel" "3 received" "$out"
assert_match "the peer resolved fd00::1 to the appliance's MAC" \
	"$(in_app cat /sys/class/net/pmx-wire/address)" "$(in_peer ip -6 neigh show fd00::1)"

out=$(in_peer timeout 8 socat -t 5 -T 5 - TCP6:[fd00::1]:22 < /dev/null)
assert_eq "TCP [fd00::1]:22 reaches the kernel" "SSH-2.0-kernel-v6" "$out"

ok=0
for i in 1 2 3 4 5; do
	out=$(printf 'v6-datagram-%s' "$i" | in_peer timeout 5 socat -t 2 -T 2 - UDP6:[fd00::1]:7)
	[ "$out" = "v6-datagram-$i" ] && ok=$((ok + 1))
done
assert_eq "UDP [fd00::1]:7 echoed by the client (5 datagrams)" 5 "$ok"
assert_eq "no UDP :7 datagram reached the kernel" "$noports_before" "$(udp6_noports)"

stats=$(pmx_req '{"cmd":"stats"}')
assert_eq "no malformed or no_route drops" "0 0" \
	"$(jq -r '.result.drops | "\(.malformed) \(.no_route)"' <<< "$stats")"
kill -TERM "$TB_PID_echo"
tb_wait_for "echo client exit" 50 grep -q echoed "$TB_DIR/echo.log"
assert_match "client echoed 5 datagrams" "echoed 5 datagrams" "$(grep echoed "$TB_DIR/echo.log")"
assert_done
