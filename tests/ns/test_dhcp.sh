#!/usr/bin/env bash
# test_dhcp.sh - a client with a MAC of its own and no address gets one by DHCP through the
# switch: dnsmasq on the peer leases 198.18.0.100; pmx-dhcp-client attaches with
# 02:00:00:00:00:20 and no "addresses", does DISCOVER/OFFER/REQUEST/ACK over its rings (it may
# send from 0.0.0.0), and the switch makes the ACK's address the client's. Covers: the lease
# (dnsmasq's log, the client's output, its addresses in `clients`); datagrams from the leased
# address reach the peer, those from another address are dropped as spoofed; while it holds
# the address no other client may declare it; when the client goes, so does the address (a
# new client declares and uses it). Lease expiry and refused ACKs: tests/unit/test_dhcp_lease.c.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CLIENT=$PMX_BUILD/tests/pmx-dhcp-client
SENDER=$PMX_BUILD/tests/pmx-sender
OWN_MAC=02:00:00:00:00:20
LEASED=198.18.0.100
command -v dnsmasq > /dev/null || die "dnsmasq missing (Debian: dnsmasq-base)"
[ -x "$CLIENT" ] || die "$CLIENT not built"

stat_of() { pmx_req '{"cmd":"stats"}' | jq "$1"; }
spoofed() { stat_of '.result.drops.spoofed'; }
spoofed_at_least() { [ "$(spoofed)" -ge "$1" ]; }
clients() { pmx_req '{"cmd":"clients"}' | jq -c "$1"; }
no_clients() { [ "$(clients '.result.clients | length')" -eq 0 ]; }
peer_got() { grep -c "^pmx-dhcp-client $1 " "$TB_DIR/peer.udp" 2> /dev/null; }

pmx_hugepages 512
tb_up
tb_config firewall
tb_start_daemon
PEER_MAC=$(in_peer cat /sys/class/net/eth0/address)

say "dnsmasq on the peer: one address to lease, $LEASED"
tb_bg_peer dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
	--interface=eth0 --bind-interfaces --no-ping --log-dhcp --log-facility=- \
	--dhcp-range=$LEASED,$LEASED,255.255.255.0,10m --dhcp-leasefile="$TB_DIR/dnsmasq.leases" \
	--pid-file="$TB_DIR/dnsmasq.pid"
tb_wait_for "dnsmasq on udp 67" 100 in_peer sh -c "ss -lun | grep -q ':67 '"
ip netns exec "$TB_PEER" socat -u UDP-RECV:5555 OPEN:"$TB_DIR/peer.udp",creat,append \
	> /dev/null 2>&1 &
SOCAT_PID=$!
tb_on_exit "kill $SOCAT_PID; wait $SOCAT_PID"
tb_wait_for "peer listening on udp 5555" 100 in_peer sh -c "ss -lun | grep -q ':5555 '"
before=$(spoofed)

say "pmx-dhcp-client: attach without an address, DHCP through the switch"
mkfifo "$TB_DIR/client.in"
tb_bg dhcp sh -c "exec env PORTMUX_SOCKET='$TB_SOCK' '$CLIENT' -M $OWN_MAC -t 198.18.0.2 \
	-T 5555 -F 198.18.0.101 -n 3 < '$TB_DIR/client.in'"
exec 7> "$TB_DIR/client.in" # the client stays attached while this is open
tb_wait_for "the client's lease" 300 grep -q "^sent .* from 198.18.0.101" "$TB_DIR/dhcp.log" ||
	die "no lease: $(cat "$TB_DIR/dhcp.log"; cat "$TB_DIR/dnsmasq.log")"
sed 's/^/  /' "$TB_DIR/dhcp.log"
assert_match "the client got $LEASED for 600 s from the peer's server" \
	"leased $LEASED for 600 s from ${PEER_MAC^^}" "$(cat "$TB_DIR/dhcp.log")"
assert_match "dnsmasq acknowledged it to the client's MAC" "DHCPACK(eth0) $LEASED $OWN_MAC" \
	"$(cat "$TB_DIR/dnsmasq.log")"
assert_eq "the switch made it the client's address" "[\"$LEASED\"]" \
	"$(clients '.result.clients[0].addresses')"

tb_wait_for "the peer got 3 datagrams from $LEASED" 100 sh -c "[ \$(grep -c '$LEASED' \
	'$TB_DIR/peer.udp' 2> /dev/null) -ge 3 ]"
tb_wait_for "3 spoofed" 100 spoofed_at_least $((before + 3))
assert_eq "from the leased address: 3 datagrams reach the peer" 3 "$(peer_got $LEASED)"
assert_eq "from another address: none" 0 "$(peer_got 198.18.0.101)"
assert_eq "they were dropped as spoofed" $((before + 3)) "$(spoofed)"

in_app env PORTMUX_SOCKET="$TB_SOCK" "$SENDER" -M 02:00:00:00:00:21,$LEASED -f 4000 \
	-t 198.18.0.2 -T 5555 -m "$PEER_MAC" > "$TB_DIR/taken.log" 2>&1
assert_match "while it holds it, another client may not declare it" "Address already in use" \
	"$(cat "$TB_DIR/taken.log")"

say "the client goes: the address with it"
exec 7>&-
tb_wait_for "the client detached" 100 no_clients
in_app env PORTMUX_SOCKET="$TB_SOCK" "$SENDER" -M 02:00:00:00:00:21,$LEASED -f 4000 \
	-t 198.18.0.2 -T 5555 -m "$PEER_MAC" -n 1 > "$TB_DIR/free.log" 2>&1
assert_match "another client declares $LEASED and sends from it" "sent 1 of 1" \
	"$(cat "$TB_DIR/free.log")"
tb_wait_for "the peer got its datagram" 100 grep -q "pmx-sender" "$TB_DIR/peer.udp"
assert_eq "nothing more was spoofed" $((before + 3)) "$(spoofed)"
assert_done
