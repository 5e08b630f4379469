#!/usr/bin/env bash
# test_httpd.sh - a real TCP/IP stack behind the switch: portmux-httpd (lwIP) serves HTTP on
# 198.18.0.1:8080 while the kernel, on the same IP and MAC, serves TCP :22 and answers ping.
# Covers: the page, 404, 501, 400, HTTP/1.0 and HEAD; sequential requests, also from one client
# port (lwIP's TIME_WAIT reopened by the new SYN); parallel requests with the kernel busy at the
# same time; lwIP's own ARP; frames lwIP must not see kept from it; no frame of lwIP's dropped
# as spoofed; after SIGKILL: :8080 refuses within a bound, the rule is gone, every mbuf is back
# in the pool.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

HTTPD=$PMX_BUILD/app/portmux-httpd/portmux-httpd
URL=http://198.18.0.1:8080
PAGE="portmux-httpd (lwIP 2.1.3) on 198.18.0.1:8080, request"
[ -x "$HTTPD" ] || die "$HTTPD not built (is liblwip-dev installed?)"
command -v curl > /dev/null || die "curl missing"

stat_of() { pmx_req '{"cmd":"stats"}' | jq "$1"; }
client_of() { pmx_req '{"cmd":"clients"}' | jq "$1"; }
get() { in_peer curl -sS --max-time 30 "$@"; } # generous: 2 shared cores, busy neighbours
no_clients() { [ "$(client_of '.result.clients | length')" -eq 0 ]; }
client_rx_at_least() { [ "$(client_of '.result.clients[0].rx')" -ge "$1" ]; }
pool_in_use_is() { [ "$(stat_of '.result.mempool.in_use')" -eq "$1" ]; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_sshd
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null # ARP settled before the baseline
baseline=$(stat_of '.result.mempool.in_use')
spoofed_before=$(stat_of '.result.drops.spoofed')

tb_bg httpd env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD"
tb_wait_for "portmux-httpd serving" 300 grep -q serving "$TB_DIR/httpd.log"
rule=$(pmx_req '{"cmd":"rules"}' | jq -c '[.result.rules[] | select(.proto == "tcp" and
	.local_port == 8080)] | map({local_ip, owner: .owner.name})')
assert_eq "the client owns tcp 198.18.0.1:8080" \
	'[{"local_ip":"198.18.0.1","owner":"portmux-httpd"}]' "$rule"

# lwIP's ARP cache starts empty and the peer already knows the appliance's MAC (from the ping):
# to answer the first SYN lwIP must resolve the peer itself (its ARP request goes out, the
# reply comes back to it as a copy from the switch)
out=$(get "$URL/")
assert_eq "curl / returns lwIP's page" "$PAGE 1" "$out"
assert_eq "404 for an unknown path" 404 \
	"$(get -o /dev/null -w '%{http_code}' "$URL/no/such/page")"
assert_eq "501 for POST" 501 "$(get -o /dev/null -w '%{http_code}' -X POST "$URL/")"
big=$(head -c 3000 /dev/zero | tr '\0' a)
assert_eq "400 for a request head over 2 KiB" 400 \
	"$(get -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/")"
out=$(get --http1.0 -i "$URL/index.html" | tr -d '\r')
assert_match "HTTP/1.0 request answered in HTTP/1.0" "HTTP/1.0 200 OK" "$out"
assert_match "Connection: close" "Connection: close" "$out"
assert_eq "HEAD has the headers only" "" "$(get -I -s "$URL/" | tr -d '\r' | sed '1,/^$/d')"

# frames lwIP would answer if it saw them: mirrored by the switch to every client, a SYN to a
# port it does not own and a ping (both to the broadcast MAC), IPv4 broadcast, IPv6 multicast
# (lwIP would send RST/echo replies from ports it does not own); and, to its own port, SYNs
# from its own address and from 127.0.0.1 (lwIP would loop the answer back to itself, which
# aborts a NO_SYS=0 lwIP without its tcpip thread). All are to be kept from lwIP.
mac=$(in_app cat /sys/class/net/pmx0/address)
rx_before=$(client_of '.result.clients[0].rx')
in_peer "$PMX_PY" - "$mac" <<'PY' > /dev/null 2>&1 || die "scapy failed"
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, sendp
b, us = "ff:ff:ff:ff:ff:ff", sys.argv[1]
ip = IP(src="198.18.0.2", dst="198.18.0.1")
sendp([Ether(dst=b) / ip / TCP(sport=4242, dport=9999, flags="S"),
       Ether(dst=b) / ip / ICMP(id=77),
       Ether(dst=b) / IP(src="198.18.0.2", dst="198.18.0.255") / UDP(sport=4242, dport=9),
       Ether(dst="33:33:00:00:00:01") / IPv6(src="fd00::2", dst="ff02::1") /
       ICMPv6EchoRequest(),
       Ether(dst=us) / IP(src="198.18.0.1", dst="198.18.0.1") / TCP(sport=4242, dport=8080,
                                                                     flags="S"),
       Ether(dst=us) / IP(src="127.0.0.1", dst="198.18.0.1") / TCP(sport=4242, dport=8080,
                                                                    flags="S")],
      iface="eth0", verbose=False)
PY
tb_wait_for "6 frames at the client" 150 client_rx_at_least $((rx_before + 6)) ||
	die "the frames did not reach the client"
# (the requests below pass through the same rings after them: any answer is counted by then)

ok=0
for i in $(seq 1 10); do
	[[ "$(get "$URL/")" == "$PAGE "* ]] && ok=$((ok + 1))
done
assert_eq "10 sequential requests answered" 10 "$ok"

# the server closes first ("Connection: close"), so lwIP holds each connection in TIME_WAIT for
# 2 minutes while the client may reuse its port at once: a new SYN must reopen it (as on Linux)
ok=0
for i in 1 2 3; do
	[[ "$(get --local-port 40404 --max-time 15 "$URL/")" == "$PAGE "* ]] && ok=$((ok + 1))
done
assert_eq "3 requests from the same client port in a row" 3 "$ok"

# 8 parallel requests, with ping and TCP :22 to the kernel running at the same time
# (started without a shell function in between: $! is then ping's and curl's own PID)
ip netns exec "$TB_PEER" ping -c 10 -i 0.1 -w 20 198.18.0.1 > "$TB_DIR/ping.out" 2>&1 &
ping_pid=$!
pids=()
for i in $(seq 1 8); do
	ip netns exec "$TB_PEER" curl -sS --max-time 30 "$URL/" > "$TB_DIR/par.$i" 2>&1 &
	pids+=($!)
done
ssh_out=$(in_peer timeout 20 socat -T 15 - TCP:198.18.0.1:22 < /dev/null)
for p in "${pids[@]}"; do wait "$p"; done
wait "$ping_pid"
ok=$(cat "$TB_DIR"/par.* | grep -c "^$PAGE ")
assert_eq "8 parallel requests answered" 8 "$ok"
assert_eq "8 distinct request numbers" 8 "$(cat "$TB_DIR"/par.* | sort -u | grep -c "^$PAGE ")"
assert_eq "TCP :22 reaches the kernel meanwhile" "SSH-2.0-kernel" "$ssh_out"
assert_match "ping answered by the kernel meanwhile" ", 0% packet loss" "$(cat "$TB_DIR/ping.out")"

echo "switch drops: $(pmx_req '{"cmd":"stats"}' | jq -c '.result.drops')"
# everything lwIP sent was its own: no spoofed drop, nothing unexpected delivered to it
assert_eq "no frame of the switch's dropped as spoofed" "$spoofed_before" \
	"$(stat_of '.result.drops.spoofed')"
assert_eq "the client's own spoofed counter is 0" 0 "$(client_of '.result.clients[0].spoofed')"
kill -TERM "$TB_PID_httpd"
tb_wait_for "portmux-httpd exit" 150 grep -q "frames:" "$TB_DIR/httpd.log"
line=$(grep "requests (" "$TB_DIR/httpd.log")
assert_match "lwIP answered the 27 requests" "27 requests (24 ok, 1 not found, 2 bad)" "$line"
frames=$(grep "frames:" "$TB_DIR/httpd.log")
assert_match "no frame reached lwIP that was not its own" "unexpected 0," "$frames"
ignored=$(sed -n 's/.*mirrored ignored \([0-9]*\),.*/\1/p' <<< "$frames")
assert_eq "the 4 mirrored frames were kept from lwIP" 1 $((ignored >= 4))
assert_match "the 2 SYNs from bad sources were kept from lwIP" "bad source 2," "$frames"
reopened=$(sed -n 's/.*reopened by SYN \([0-9]*\).*/\1/p' <<< "$frames")
assert_eq "the 2 SYNs from port 40404 reopened lwIP's TIME_WAIT (any port reuse counts)" 1 \
	$((reopened >= 2))
echo "$frames"
tb_wait_for "clean detach" 150 no_clients || die "portmux-httpd did not detach"

# a crash: SIGKILL while serving; the switch frees all it held
tb_bg httpd2 env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD"
tb_wait_for "portmux-httpd serving again" 300 grep -q serving "$TB_DIR/httpd2.log"
assert_eq "a new portmux-httpd serves" "$PAGE 1" "$(get "$URL/")"
{ kill -KILL "$TB_PID_httpd2" && wait "$TB_PID_httpd2"; } 2> /dev/null
tb_wait_for "client detached" 150 no_clients
assert_eq "no rules left after the crash" 0 \
	"$(pmx_req '{"cmd":"rules"}' | jq '.result.rules | length')"
start=$SECONDS
in_peer curl -sS --max-time 5 "$URL/" > "$TB_DIR/after.out" 2>&1
rc=$?
assert_eq "curl to :8080 fails after the crash" 1 $((rc != 0))
assert_eq "and fails within its 5 s bound (10 s with process start-up)" 1 $((SECONDS - start <= 10))
echo "after the crash: $(cat "$TB_DIR/after.out")"
tb_wait_for "mempool back to its baseline" 150 pool_in_use_is "$baseline"
assert_eq "mempool in use back to baseline ($baseline)" "$baseline" \
	"$(stat_of '.result.mempool.in_use')"
assert_done
