#!/usr/bin/env bash
# test_usnetd_own_mac.sh - usnetd clients as usnetd served them, where the config allows a MAC
# of their own (usnetd.own_macs true) and the kernel does not answer ping (icmp not in
# kernel.allow). Covers: a ping responder behind an AddMatch of ICMP without dst_port, over
# usnetd's datagram socket: the peer pings the appliance's address, the client answers over its
# uds channel (the kernel, firewalled, does not); a client with a MAC of its own
# (usnet_sockets' Static MAC): AddMatch of UDP on an address of its own, then its gratuitous
# ARP makes the MAC learned (the log line, stats), the peer resolves the address to that MAC
# and its datagram is answered by the client from it; a second client sending from the first
# one's MAC is refused with a log line naming the owner, from the port's (the kernel's) MAC it
# is spoofed as any client's frame from an address not its own, no MAC learned; the learned client killed: its MAC
# is free again and no client is left.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CLIENT="python3 $(cd "$(dirname "$0")/../tools" && pwd)/usnetd_client.py"
OWN_MAC=02:00:00:00:00:42
OWN_IP=198.18.0.50
DHCP_MAC=02:00:00:00:00:43
LEASED=198.18.0.100
command -v socat > /dev/null || die "socat missing"
command -v dnsmasq > /dev/null || die "dnsmasq missing (Debian: dnsmasq-base)"

stat_of() { pmx_req '{"cmd":"stats"}' | jq -c "$1"; }
stat_is() { [ "$(stat_of "$1")" = "$2" ]; }

pmx_hugepages 512
tb_up
TB_USNETD=$TB_DIR/usnetd.socket
tb_config firewall
jq '.usnetd.own_macs = true | .kernel.allow = ["tcp:22", "icmpv6"]' "$TB_CONF" \
	> "$TB_CONF.new" && mv "$TB_CONF.new" "$TB_CONF" || die "cannot edit $TB_CONF"
tb_start_daemon
PORT_MAC=$(ip -n "$TB_APP" -j link show pmx0 | jq -r '.[0].address') # the port's, the kernel's
baseline_in_use=$(stat_of '.result.mempool.in_use')

# a ping responder: every ICMP frame to 198.18.0.1 is the client's
tb_bg pong $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 add,icmp,198.18.0.1,null=OK pong,1 \
	ready
tb_wait_for "the ping responder attached" 100 grep -q "^answering ping" "$TB_DIR/pong.log" ||
	die "usnetd client: $(cat "$TB_DIR/pong.log")"
assert_eq "AddMatch of ICMP without dst_port: OK" "< OK" \
	"$(grep -E '^< (OK|ER)$' "$TB_DIR/pong.log")"
assert_eq "the peer's ping is answered" 0 "$(in_peer ping -c 1 -W 5 198.18.0.1 > /dev/null; echo $?)"
tb_wait_for "the client answered" 50 grep -q "^ready" "$TB_DIR/pong.log"
assert_match "by the client, over its uds channel" "answered a ping from 198.18.0.2" \
	"$(cat "$TB_DIR/pong.log")"
kill -KILL -- "-$TB_PID_pong"
tb_wait_for "the ping responder seen gone" 50 stat_is '.result.usnetd.gone' 1
assert_eq "without it nobody answers ping (the kernel is firewalled)" 1 \
	"$(in_peer ping -c 1 -W 1 198.18.0.1 > /dev/null; echo $?)"

# a host of its own: its MAC learned from its gratuitous ARP
tb_bg own $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 "add,udp,$OWN_IP,7=OK" \
	"own,$OWN_MAC,$OWN_IP,7,1" ready
tb_wait_for "the MAC learned" 100 grep -q "MAC $OWN_MAC learned from its frames" "$TB_LOG" ||
	die "not learned: $(cat "$TB_DIR/own.log"; tail -5 "$TB_LOG")"
assert_match "the log says which addresses" "with 1 addresses of its matches" "$(cat "$TB_LOG")"
assert_eq "stats: allowed, one learned, none refused" '[true,1,0]' \
	"$(stat_of '.result.usnetd | [.own_macs, .macs_learned, .macs_refused]')"
assert_eq "clients: its MAC" "\"$OWN_MAC\"" \
	"$(pmx_req '{"cmd":"clients"}' | jq -c '.result.clients[0].mac')"
assert_eq "the peer's datagram to its address comes back from it" "to the own MAC" \
	"$(in_peer socat -T 5 - "UDP:$OWN_IP:7" <<< "to the own MAC")"
assert_match "the peer resolved the address to the client's MAC" "lladdr $OWN_MAC" \
	"$(ip -n "$TB_PEER" neigh show "$OWN_IP")"
tb_wait_for "the client answered" 50 grep -q "^ready" "$TB_DIR/own.log"
assert_match "answered from its MAC" "to 198.18.0.2 from $OWN_MAC" \
	"$(cat "$TB_DIR/own.log")"

# another client sending from that MAC: refused, the owner named
spoofed_before=$(stat_of '.result.drops.spoofed')
tb_bg thief $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 "spoof,$OWN_MAC,$OWN_IP" \
	"spoof,$PORT_MAC,$OWN_IP" ready
tb_wait_for "the other client's MAC refused" 50 \
	grep -q "frames from MAC $OWN_MAC refused (drops.spoofed): \"mac\" is client" "$TB_LOG"
assert_match "the log names the owner" \
	"frames from MAC $OWN_MAC refused (drops.spoofed): \"mac\" is client" \
	"$(cat "$TB_LOG")"
tb_wait_for "both frames counted" 50 stat_is ".result.drops.spoofed - $spoofed_before" 2
assert_eq "both counted as spoofed (the port's MAC: not its address)" 2 \
	"$(($(stat_of '.result.drops.spoofed') - spoofed_before))"
assert_eq "stats: one refused, still one learned" '[1,1]' \
	"$(stat_of '.result.usnetd | [.macs_refused, .macs_learned]')"
assert_eq "the port's MAC is nobody's own" '[null]' \
	"$(pmx_req '{"cmd":"clients"}' | jq -c "[.result.clients[] | select(.mac != \"$OWN_MAC\") | .mac]")"
kill -KILL -- "-$TB_PID_thief"

# a host of its own without an address: its DHCP DISCOVER teaches the MAC, the ACK the address
tb_bg_peer dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
	--interface=eth0 --bind-interfaces --no-ping --log-dhcp --log-facility=- \
	--dhcp-range=$LEASED,$LEASED,255.255.255.0,10m --dhcp-leasefile="$TB_DIR/dnsmasq.leases" \
	--pid-file="$TB_DIR/dnsmasq.pid"
tb_wait_for "dnsmasq on udp 67" 100 in_peer sh -c "ss -lun | grep -q ':67 '"
tb_bg dhcp $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 "dhcp,$DHCP_MAC" ready
tb_wait_for "the lease" 150 grep -q "^ready" "$TB_DIR/dhcp.log" ||
	die "no lease: $(cat "$TB_DIR/dhcp.log"; cat "$TB_DIR/dnsmasq.log")"
assert_match "the client got $LEASED from the peer's server" "leased $LEASED from 198.18.0.2" \
	"$(cat "$TB_DIR/dhcp.log")"
assert_match "its MAC learned from the DISCOVER, without an address" \
	"MAC $DHCP_MAC learned from its frames (its own now, with 0 addresses" "$(cat "$TB_LOG")"
assert_eq "the switch made the ACK's address the client's" "[\"$LEASED\"]" \
	"$(pmx_req '{"cmd":"clients"}' |
		jq -c ".result.clients[] | select(.mac == \"$DHCP_MAC\") | .addresses")"
kill -KILL -- "-$TB_PID_dhcp"

# the learned clients killed: their MACs and channels go
kill -KILL -- "-$TB_PID_own"
tb_wait_for "every client seen gone" 50 stat_is '.result.usnetd.gone' 4
assert_eq "no client left" 0 "$(pmx_req '{"cmd":"clients"}' | jq '.result.clients | length')"
assert_eq "no rule left" 0 "$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
tb_wait_for "every mbuf back" 50 stat_is ".result.mempool.in_use <= $baseline_in_use" true
assert_eq "no mbuf held after the clients left" "true" \
	"$(stat_of ".result.mempool.in_use <= $baseline_in_use")"
assert_done
