#!/usr/bin/env bash
# test_own_mac.sh - a client with a MAC and an address of its own: portmux-httpd (lwIP) attaches
# with 02:00:00:00:00:10 and 198.18.0.10 (hello "mac", "addresses") beside the kernel, which
# keeps 198.18.0.1 and the port's MAC. Covers: the peer resolves 198.18.0.10 to the client's
# MAC (lwIP answers ARP itself) and gets the page; lwIP answers ping at its address; the kernel
# keeps ping and TCP :22 on 198.18.0.1 and gets no frame addressed to the client's MAC; the
# kernel reaches the client through the switch (local delivery by MAC); anti-spoofing of the
# (MAC, IP) pair: a client sending from its MAC with its address passes, with the kernel's or
# another client's address it is counted spoofed; a second hello with the same MAC is refused;
# after the client leaves, its MAC and address are free and 198.18.0.10 answers no more.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

HTTPD=$PMX_BUILD/app/portmux-httpd/portmux-httpd
SENDER=$PMX_BUILD/tests/pmx-sender
OWN_MAC=02:00:00:00:00:10
URL=http://198.18.0.10:8080
PAGE="portmux-httpd (lwIP 2.1.3) on 198.18.0.10:8080, request"
[ -x "$HTTPD" ] || die "$HTTPD not built (is liblwip-dev installed?)"
command -v curl > /dev/null || die "curl missing"
command -v tcpdump > /dev/null || die "tcpdump missing"

stat_of() { pmx_req '{"cmd":"stats"}' | jq "$1"; }
client_of() { pmx_req '{"cmd":"clients"}' | jq "$1"; }
get() { in_peer curl -sS --max-time 30 "$@"; } # generous: 2 shared cores, busy neighbours
no_clients() { [ "$(client_of '.result.clients | length')" -eq 0 ]; }
spoofed() { stat_of '.result.drops.spoofed'; }
spoofed_at_least() { [ "$(spoofed)" -ge "$1" ]; }
# sender NAME OWN-MAC,OWN-IP FROM-IP: 3 datagrams from the client's MAC to the peer's :5555
sender() {
	in_app env PORTMUX_SOCKET="$TB_SOCK" "$SENDER" -M "$2" -f 4000 -F "$3" -t 198.18.0.2 \
		-T 5555 -m "$PEER_MAC" -n 3 > "$TB_DIR/$1.log" 2>&1
}

pmx_hugepages 512
tb_up
tb_start_daemon
tb_sshd
PEER_MAC=$(in_peer cat /sys/class/net/eth0/address)
KERNEL_MAC=$(in_app cat /sys/class/net/pmx0/address)
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null # the peer knows the kernel's MAC

# what the switch gives the kernel, addressed to the client's MAC: must stay empty
ip netns exec "$TB_APP" tcpdump -i pmx0 -Q in -nn -U -w "$TB_DIR/kernel.pcap" ether dst "$OWN_MAC" \
	> "$TB_DIR/tcpdump.log" 2>&1 &
TCPDUMP_PID=$! # tcpdump's own PID: started without a shell function in between
tb_on_exit "kill $TCPDUMP_PID; wait $TCPDUMP_PID"
tb_wait_for "tcpdump listening" 100 grep -q "listening on" "$TB_DIR/tcpdump.log"

tb_bg httpd env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD" -M "$OWN_MAC" -a 198.18.0.10
tb_wait_for "portmux-httpd serving" 300 grep -q serving "$TB_DIR/httpd.log" ||
	die "portmux-httpd did not start: $(cat "$TB_DIR/httpd.log")"
assert_eq "the client has its own MAC" "\"$OWN_MAC\"" "$(client_of '.result.clients[0].mac')"
assert_eq "and no rule: its MAC steers its frames" 0 \
	"$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
spoofed_before=$(spoofed)

out=$(get "$URL/")
assert_eq "curl 198.18.0.10:8080 returns lwIP's page" "$PAGE 1" "$out"
assert_match "the peer resolved 198.18.0.10 to the client's MAC" "lladdr $OWN_MAC" \
	"$(in_peer ip neigh show 198.18.0.10)"
assert_match "and 198.18.0.1 to the kernel's" "lladdr $KERNEL_MAC" \
	"$(in_peer ip neigh show 198.18.0.1)"
assert_match "lwIP answers ping at its own address" ", 0% packet loss" \
	"$(in_peer ping -c 3 -i 0.2 -W 5 198.18.0.10)"
assert_match "the kernel answers ping at 198.18.0.1" ", 0% packet loss" \
	"$(in_peer ping -c 3 -i 0.2 -W 5 198.18.0.1)"
assert_eq "TCP :22 reaches the kernel" "SSH-2.0-kernel" \
	"$(in_peer timeout 20 socat -T 15 - TCP:198.18.0.1:22 < /dev/null)"
assert_eq "curl to the kernel's address :8080 is refused (nobody owns it there)" 7 \
	"$(in_peer curl -sS --max-time 10 -o /dev/null http://198.18.0.1:8080/ 2>/dev/null; echo $?)"
ok=0
for i in 2 3 4 5 6; do
	[ "$(get "$URL/")" = "$PAGE $i" ] && ok=$((ok + 1))
done
assert_eq "5 more requests answered" 5 "$ok"
# the kernel of the appliance reaches the client too: its ARP request is copied to the client,
# its frames to the client's MAC never leave the appliance
assert_eq "the kernel (198.18.0.1) gets the page through the switch" "$PAGE 7" \
	"$(in_app curl -sS --max-time 30 "$URL/")"
assert_eq "no frame of lwIP's dropped as spoofed" "$spoofed_before" "$(spoofed)"

# anti-spoofing of the (MAC, IP) pair, with a second client of its own MAC
ip netns exec "$TB_PEER" socat -u UDP-RECV:5555 OPEN:"$TB_DIR/peer.udp",creat,append > /dev/null 2>&1 &
SOCAT_PID=$!
tb_on_exit "kill $SOCAT_PID; wait $SOCAT_PID"
tb_wait_for "peer listening on udp 5555" 100 in_peer sh -c "ss -lun | grep -q ':5555 '"
before=$(spoofed)
sender own 02:00:00:00:00:11,198.18.0.11 198.18.0.11
tb_wait_for "the peer got the 3 datagrams" 100 \
	sh -c "[ \$(grep -o 'pmx-sender' '$TB_DIR/peer.udp' | wc -l) -ge 3 ]"
assert_eq "its MAC with its address: the 3 datagrams reach the peer" 3 \
	"$(grep -o 'pmx-sender' "$TB_DIR/peer.udp" | wc -l)"
assert_eq "and nothing is spoofed" "$before" "$(spoofed)"
sender kernels 02:00:00:00:00:11,198.18.0.11 198.18.0.1
sender httpds 02:00:00:00:00:11,198.18.0.11 198.18.0.10
# the sender leaves once its frames are in its ring; the switch counts them when it gets there
tb_wait_for "6 more spoofed" 100 spoofed_at_least $((before + 6))
assert_eq "its MAC with the kernel's or the httpd's address: 6 spoofed" $((before + 6)) "$(spoofed)"
assert_eq "none of them reached the peer" 3 "$(grep -o 'pmx-sender' "$TB_DIR/peer.udp" | wc -l)"
in_app env PORTMUX_SOCKET="$TB_SOCK" "$SENDER" -M "$OWN_MAC,198.18.0.12" -f 4000 -t 198.18.0.2 \
	-T 5555 -m "$PEER_MAC" > "$TB_DIR/dup.log" 2>&1
assert_match "a second hello with the httpd's MAC is refused" "Address already in use" \
	"$(cat "$TB_DIR/dup.log")"

sleep 0.5 # tcpdump -U writes each packet at once; let the last ones land
kill -TERM "$TCPDUMP_PID" # (a background job of a script ignores SIGINT)
wait "$TCPDUMP_PID" 2> /dev/null
assert_eq "the kernel got no frame addressed to the client's MAC" 0 \
	"$(tcpdump -nn -r "$TB_DIR/kernel.pcap" 2> /dev/null | wc -l)"

kill -TERM "$TB_PID_httpd"
tb_wait_for "portmux-httpd exit" 150 grep -q "frames:" "$TB_DIR/httpd.log"
frames=$(grep "frames:" "$TB_DIR/httpd.log")
echo "$frames"
assert_match "no frame reached lwIP that was not its own" "unexpected 0," "$frames"
tb_wait_for "clean detach" 150 no_clients || die "portmux-httpd did not detach"
in_peer ip neigh flush dev eth0
rc=$(in_peer curl -sS --max-time 5 -o /dev/null "$URL/" 2> /dev/null; echo $?)
assert_eq "198.18.0.10 answers no more once the client left" 1 $((rc != 0))
tb_bg httpd2 env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD" -M "$OWN_MAC" -a 198.18.0.10
tb_wait_for "a new portmux-httpd serving with the same MAC" 300 \
	grep -q serving "$TB_DIR/httpd2.log"
assert_eq "the MAC and address are free again" "$PAGE 1" "$(get "$URL/")"
assert_done
