#!/usr/bin/env bash
# test_e2e.sh - the demo scenario with assertions: one IP, the kernel (ping, TCP :22) and a
# client (UDP echo :7) side by side; nothing of the client's reaches the kernel and nothing of
# the kernel's reaches the client; a client's spoofed frames are dropped and counted.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

pmx_hugepages 512
tb_up
tb_start_daemon
tb_sshd
tb_echo echo 7
udp_noports_before=$(in_app awk '/^Udp:/ {n++; if (n == 2) print $3}' /proc/net/snmp)

# the kernel answers ping on the shared address
out=$(in_peer ping -c 3 -i 0.2 -W 2 198.18.0.1)
assert_match "ping answered by the kernel" "3 received" "$out"

# the kernel answers TCP :22
out=$(in_peer timeout 15 socat -t 10 -T 10 - TCP:198.18.0.1:22 < /dev/null)
assert_eq "TCP :22 reaches the kernel" "SSH-2.0-kernel" "$out"

# the client answers UDP :7, every datagram, byte for byte
ok=0
for i in 1 2 3 4 5; do
	out=$(printf 'datagram-%s' "$i" | in_peer timeout 12 socat -t 10 -T 10 - UDP:198.18.0.1:7)
	[ "$out" = "datagram-$i" ] && ok=$((ok + 1))
done
assert_eq "UDP :7 echoed by the client (5 datagrams)" 5 "$ok"

# the kernel never saw UDP :7 (it has no listener there: it would count NoPorts)
udp_noports_after=$(in_app awk '/^Udp:/ {n++; if (n == 2) print $3}' /proc/net/snmp)
assert_eq "no UDP :7 datagram reached the kernel" "$udp_noports_before" "$udp_noports_after"

# a client may send only from what it owns: 3 datagrams from an address that is not the
# appliance's are dropped, 2 from its own port arrive at the peer
peer_mac=$(in_peer cat /sys/class/net/eth0/address)
tb_bg_peer sink socat -u UDP-RECV:5000 CREATE:"$TB_DIR/peer-received"
tb_wait_for "peer listening on UDP 5000" 50 in_peer sh -c "ss -lun | grep -q ':5000 '"
spoofed_before=$(pmx_req '{"cmd":"stats"}' | jq '.result.drops.spoofed')
in_app env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/tests/pmx-sender" -l 9000 -f 9000 -F 198.18.0.77 \
	-t 198.18.0.2 -T 5000 -m "$peer_mac" -n 3
in_app env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/tests/pmx-sender" -l 9000 -f 9000 \
	-t 198.18.0.2 -T 5000 -m "$peer_mac" -n 2
tb_wait_for "2 datagrams at the peer" 50 sh -c "[ \$(grep -o 'pmx-sender' $TB_DIR/peer-received | wc -l) -ge 2 ]"
spoofed_after=$(pmx_req '{"cmd":"stats"}' | jq '.result.drops.spoofed')
assert_eq "spoofed client frames dropped and counted" 3 $((spoofed_after - spoofed_before))
assert_eq "owned client frames reached the peer" 2 "$(grep -o 'pmx-sender' "$TB_DIR/peer-received" | wc -l)"

# the client got nothing of the kernel's traffic (only ARP/ND/multicast copies)
stats=$(pmx_req '{"cmd":"stats"}')
kill -TERM "$TB_PID_echo"
tb_wait_for "echo client exit" 50 grep -q echoed "$TB_DIR/echo.log"
line=$(grep echoed "$TB_DIR/echo.log")
assert_match "client echoed 5 datagrams" "echoed 5 datagrams" "$line"
assert_match "client received no kernel traffic" "and 0 other frames" "$line"
assert_eq "no malformed or no_route drops" "0 0" \
	"$(jq -r '.result.drops | "\(.malformed) \(.no_route)"' <<< "$stats")"
echo "stats: $(jq -c '.result.ports[0] | {rx, to_clients, to_kernel, from_kernel, from_clients, tx_wire}' <<< "$stats")"
assert_done
