#!/usr/bin/env bash
# test_wire_defaults.sh - the wire as it comes (issue 17): the peer at the kernel's default
# offloads (checksum offload, TSO, GSO on: partial checksums and super-frames on its veth) and
# GRO turned ON for pmx-wire before portmuxd starts (as a physical NIC has it). Covers, each
# through the switch: TCP to the kernel's :22 with no TcpInCsumErrors; UDP echo through
# portmux-echo (IPv4, IPv6); TCP to portmux-httpd on the shared address and with a MAC of its
# own; fragmented UDP (3,000 and 60,000 bytes, IPv4 and IPv6) whole to a kernel socket (sha256
# of each) and every fragment to a client; a 20 MB upload and a 20 MB download to a kernel
# listener, sha256 compared at both ends; a TCP segment with a deliberately wrong checksum
# (not a partial one) still counted as TcpInCsumErrors by the appliance's kernel (IPv4, IPv6);
# frames the packet socket drops while the RX lcore is stopped (SIGSTOP) counted in imissed:
# every frame that reached pmx-wire is received or missed.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

HTTPD=$PMX_BUILD/app/portmux-httpd/portmux-httpd
ECHO=$PMX_BUILD/app/portmux-echo/portmux-echo
OWN_MAC=02:00:00:00:00:10
[ -x "$HTTPD" ] || die "$HTTPD not built (is liblwip-dev installed?)"

app_nstat() { in_app nstat -saz "$1" | awk -v k="$1" '$1 == k {print $2}'; }
peer_nstat() { in_peer nstat -saz "$1" | awk -v k="$1" '$1 == k {print $2}'; }
nic_stat() { pmx_req '{"cmd":"stats"}' | jq ".result.ports[0].nic.$1"; }
client_rx() { pmx_req '{"cmd":"clients"}' | jq "[.result.clients[] | select(.name == \"$1\") |
	.rx] | add"; }
peer_tcp() { # ADDR PORT: what a connection from the peer reads within 8 s
	in_peer timeout 20 socat -T 8 - "TCP:$1:$2,connect-timeout=8" < /dev/null 2>&1 | head -c 300
}
features() { echo "$1: $(in_app ethtool -k pmx-wire | grep -E 'receive-offload|gro' |
	tr -s '\t\n' '  ')"; echo "   peer: $(in_peer ethtool -k eth0 | grep -E \
	'^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive)' |
	tr -s '\t\n' '  ')"; }

pmx_hugepages 512
tb_up
assert_match "the peer is at its defaults: checksum offload on" "tx-checksumming: on" \
	"$(in_peer ethtool -k eth0)"
assert_match "the peer is at its defaults: TSO on" "tcp-segmentation-offload: on" \
	"$(in_peer ethtool -k eth0)"
# GRO on for the wire, as a physical NIC has it; portmuxd must turn it off
in_app ethtool -K pmx-wire gro on # on purpose
features "before"
tb_start_daemon
features "during"
assert_match "during: GRO off on the wire" "generic-receive-offload: off" \
	"$(in_app ethtool -k pmx-wire)"
tb_sshd # IPv4 only: IPv6 :22 is another socket
tb_bg sshd6 socat TCP6-LISTEN:22,fork,reuseaddr,ipv6only=1 SYSTEM:'echo SSH-2.0-kernel'
tb_wait_for "kernel [::]:22 listening" 100 in_app sh -c "ss -ltn | grep -q '\[::\]:22 '"
in_peer ping -c 1 -W 2 198.18.0.1 > /dev/null
in_peer ping -6 -c 1 -W 2 fd00::1 > /dev/null

say "TCP to the kernel's :22, UDP echo"
csum_before=$(app_nstat TcpInCsumErrors)
assert_eq "kernel :22 answers a peer with checksum offload on" SSH-2.0-kernel \
	"$(peer_tcp 198.18.0.1 22)"
assert_eq "kernel :22 answers over IPv6" SSH-2.0-kernel "$(peer_tcp '[fd00::1]' 22)"
assert_eq "no TcpInCsumErrors in the appliance's kernel" "$csum_before" \
	"$(app_nstat TcpInCsumErrors)"
tb_bg echo env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" -n echo 7
tb_wait_for "echo listening" 100 grep -q listening "$TB_DIR/echo.log"
out=$(printf hello | in_peer timeout 5 socat -t 3 -T 3 - UDP:198.18.0.1:7 2> /dev/null)
assert_eq "portmux-echo echoes UDP (IPv4)" hello "$out"
out=$(printf hello6 | in_peer timeout 5 socat -t 3 -T 3 - 'UDP:[fd00::1]:7' 2> /dev/null)
assert_eq "portmux-echo echoes UDP (IPv6)" hello6 "$out"

say "TCP to portmux-httpd: the shared address, a MAC of its own"
tb_bg httpd env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD"
tb_bg httpdown env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD" -n httpd-own -M "$OWN_MAC" -a 198.18.0.10
tb_wait_for "both portmux-httpd serving" 300 sh -c \
	"grep -q serving $TB_DIR/httpd.log && grep -q serving $TB_DIR/httpdown.log"
out=$(in_peer curl -sS --max-time 20 http://198.18.0.1:8080/ 2>&1)
assert_match "lwIP on the shared address answers a peer at its defaults" \
	"portmux-httpd (lwIP 2.1.3) on 198.18.0.1:8080" "$out"
out=$(in_peer curl -sS --max-time 20 http://198.18.0.10:8080/ 2>&1)
assert_match "lwIP with a MAC of its own answers a peer at its defaults" \
	"portmux-httpd (lwIP 2.1.3) on 198.18.0.10:8080" "$out"

say "20 MB up and down to portmux-httpd: the shared address, a MAC of its own"
head -c 20971520 /dev/urandom > "$TB_DIR/up20.bin"
up_want="$(sha256sum < "$TB_DIR/up20.bin" | cut -d' ' -f1) 20971520"
# GET /bytes/N (docs/HTTPD.md): the little-endian 64-bit words k * 0x9E3779B97F4A7C15 mod 2^64
down_want=$("$PMX_PY" -c '
import array, hashlib, sys
w = array.array("Q", (k * 0x9E3779B97F4A7C15 & (1 << 64) - 1 for k in range(20971520 // 8)))
if sys.byteorder != "little":
    w.byteswap()
print(hashlib.sha256(w.tobytes()).hexdigest())')
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; } # peak resident set, kB
hwm0=$(($(hwm "$TB_PID_httpd") + $(hwm "$TB_PID_httpdown")))
for addr in 198.18.0.1 198.18.0.10; do
	rm -f "$TB_DIR/sha.out" "$TB_DIR/down20.bin"
	took=$(in_peer curl -sS --max-time 120 --data-binary @"$TB_DIR/up20.bin" \
		-o "$TB_DIR/sha.out" -w '%{time_total} s, %{speed_upload} B/s' \
		"http://$addr:8080/sha256" 2>&1)
	echo "upload to lwIP on $addr: 20971520 bytes in $took"
	assert_eq "upload to lwIP on $addr: the sha256 and length it hashed" "$up_want" \
		"$(cat "$TB_DIR/sha.out" 2> /dev/null)"
	took=$(in_peer curl -sS --max-time 120 -o "$TB_DIR/down20.bin" \
		-w '%{time_total} s, %{speed_download} B/s' "http://$addr:8080/bytes/20971520" 2>&1)
	echo "download from lwIP on $addr: $(stat -c %s "$TB_DIR/down20.bin" 2> /dev/null) bytes" \
		"in $took"
	assert_eq "download from lwIP on $addr: the peer got the pattern (sha256)" "$down_want" \
		"$(sha256sum < "$TB_DIR/down20.bin" | cut -d' ' -f1)"
done
grow=$(($(hwm "$TB_PID_httpd") + $(hwm "$TB_PID_httpdown") - hwm0))
echo "the two servers' peak resident sets grew by $grow kB over the 80 MB"
assert_eq "no server held a body (peak resident set grew by less than 8 MB)" 1 \
	$((grow < 8192))
raw() { # REQUEST: what portmux-httpd on the shared address answers it with (CR removed)
	printf "$1" | in_peer timeout 20 socat -t 8 -T 8 - TCP:198.18.0.1:8080,connect-timeout=8 \
		2>&1 | tr -d '\r'
}
raw_status() { raw "$1" | head -n 1; } # REQUEST: the status line of the answer
assert_eq "POST /sha256 with its body in the head's segment: sha256 and length" \
	"$(printf hello | sha256sum | cut -d' ' -f1) 5" \
	"$(raw 'POST /sha256 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello' | tail -n 1)"
assert_eq "Expect: 100-continue gets 100 Continue before the body" "HTTP/1.1 100 Continue" \
	"$(raw_status 'POST /sha256 HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')"
assert_eq "POST /sha256 without Content-Length: 411" "HTTP/1.1 411 Length Required" \
	"$(raw_status 'POST /sha256 HTTP/1.1\r\nHost: a\r\n\r\n')"
assert_eq "POST /sha256 of 1 GiB + 1: 413" "HTTP/1.1 413 Content Too Large" \
	"$(raw_status 'POST /sha256 HTTP/1.1\r\nContent-Length: 1073741825\r\n\r\n')"
assert_eq "GET /bytes/1073741825: 400" "HTTP/1.1 400 Bad Request" \
	"$(raw_status 'GET /bytes/1073741825 HTTP/1.1\r\n\r\n')"
kill -TERM "$TB_PID_httpd" "$TB_PID_httpdown"
tb_wait_for "both portmux-httpd exit" 100 sh -c \
	"grep -q 'bytes hashed' $TB_DIR/httpd.log && grep -q 'bytes hashed' $TB_DIR/httpdown.log"
grep -h 'bytes hashed' "$TB_DIR/httpd.log" "$TB_DIR/httpdown.log"
assert_match "the shared-address server hashed 20 MB + 5 bytes and sent 20 MB" \
	"bodies: 20971525 bytes hashed (POST /sha256), 20971520 bytes sent" \
	"$(cat "$TB_DIR/httpd.log")"
assert_match "the own-MAC server hashed and sent 20 MB" \
	"bodies: 20971520 bytes hashed (POST /sha256), 20971520 bytes sent" \
	"$(cat "$TB_DIR/httpdown.log")"

say "fragmented UDP, 3,000 and 60,000 bytes, IPv4 and IPv6"
# to a kernel socket: each datagram whole, its length and sha256 written down
tb_bg ksink "$PMX_PY" -u -c '
import hashlib, socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("::", 9100))
print("listening", flush=True)
while True:
    d, a = s.recvfrom(65535)
    print(len(d), hashlib.sha256(d).hexdigest(), flush=True)'
tb_wait_for "kernel UDP :9100 listening" 100 grep -q listening "$TB_DIR/ksink.log"
cat > "$TB_DIR/frag_send.py" << 'PY'
# send the four datagrams to PORT (the peer's kernel fragments them); print their length and
# sha256, one a line, as the receiver writes them
import hashlib, socket, sys
port = int(sys.argv[1])
for fam, addr in ((socket.AF_INET, "198.18.0.1"), (socket.AF_INET6, "fd00::1")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for size in (3000, 60000):
        d = bytes((i * 7 + size) % 251 for i in range(size))
        s.sendto(d, (addr, port))
        print(size, hashlib.sha256(d).hexdigest())
PY
want=$(in_peer "$PMX_PY" "$TB_DIR/frag_send.py" 9100)
tb_wait_for "the kernel socket got 4 datagrams" 100 \
	sh -c "[ \$(grep -vc listening $TB_DIR/ksink.log) -ge 4 ]"
assert_eq "the kernel socket got each datagram whole (length, sha256)" "$want" \
	"$(grep -v listening "$TB_DIR/ksink.log")"
# to a client: every fragment reaches it (fragments are no datagrams it echoes: "other")
tb_bg sink env PORTMUX_SOCKET="$TB_SOCK" "$ECHO" -n sink 7100
tb_wait_for "sink listening" 100 grep -q listening "$TB_DIR/sink.log"
frags_before=$(($(peer_nstat IpFragCreates) + $(peer_nstat Ip6FragCreates)))
in_peer "$PMX_PY" "$TB_DIR/frag_send.py" 7100 > /dev/null
frags=$(($(peer_nstat IpFragCreates) + $(peer_nstat Ip6FragCreates) - frags_before))
echo "the peer's kernel cut the 4 datagrams into $frags fragments"
assert_eq "the 4 datagrams left the peer as fragments (2x3 + 2x41 or more)" 1 $((frags >= 88))
tb_wait_for "the sink received $frags fragments" 100 sh -c \
	"[ \"\$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK |
	   jq '[.result.clients[] | select(.name == \"sink\") | .rx] | add')\" -ge $frags ]"
kill -TERM "$TB_PID_sink"
tb_wait_for "sink exit" 100 grep -q echoed "$TB_DIR/sink.log"
assert_eq "the client got every fragment ($frags)" "$frags" \
	"$(sed -n 's/.* and \([0-9]*\) other frames.*/\1/p' "$TB_DIR/sink.log")"

say "20 MB up and down to a kernel listener"
head -c 20000000 /dev/urandom > "$TB_DIR/src.bin"
src_sha=$(sha256sum < "$TB_DIR/src.bin" | cut -d' ' -f1)
tb_bg up socat -u TCP-LISTEN:5001,reuseaddr "CREATE:$TB_DIR/up.bin"
tb_bg down socat -u "OPEN:$TB_DIR/src.bin" TCP-LISTEN:5002,reuseaddr
tb_wait_for "kernel :5001 and :5002 listening" 100 \
	in_app sh -c "ss -ltn | grep -q ':5001 ' && ss -ltn | grep -q ':5002 '"
t0=$(date +%s.%N)
in_peer timeout 120 socat -u "OPEN:$TB_DIR/src.bin" TCP:198.18.0.1:5001,connect-timeout=8
t1=$(date +%s.%N)
tb_wait_for "the listener wrote the upload" 100 sh -c "! kill -0 $TB_PID_up 2> /dev/null"
echo "upload: $(stat -c %s "$TB_DIR/up.bin" 2> /dev/null) bytes in $(echo "$t1 - $t0" | bc) s"
assert_eq "upload: the kernel listener got the 20 MB (sha256)" "$src_sha" \
	"$(sha256sum < "$TB_DIR/up.bin" | cut -d' ' -f1)"
t0=$(date +%s.%N)
in_peer timeout 120 socat -u TCP:198.18.0.1:5002,connect-timeout=8 "CREATE:$TB_DIR/down.bin"
t1=$(date +%s.%N)
echo "download: $(stat -c %s "$TB_DIR/down.bin" 2> /dev/null) bytes in $(echo "$t1 - $t0" | bc) s"
assert_eq "download: the peer got the 20 MB (sha256)" "$src_sha" \
	"$(sha256sum < "$TB_DIR/down.bin" | cut -d' ' -f1)"

say "a wrong TCP checksum stays wrong"
csum_before=$(app_nstat TcpInCsumErrors)
mac=$(in_app cat /sys/class/net/pmx0/address)
sent=$(in_peer "$PMX_PY" - "$mac" << 'PY'
# a SYN to :22 whose checksum is neither right nor the pseudo-header sum a partial one holds
import socket, struct, sys
from scapy.all import Ether, IP, IPv6, TCP, sendp, raw

def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

n = 0
for ip in (IP(src="198.18.0.2", dst="198.18.0.1"), IPv6(src="fd00::2", dst="fd00::1")):
    syn = ip / TCP(sport=40000, dport=22, flags="S", seq=1)
    seg = raw(syn)[len(raw(ip)):]
    good = TCP(seg).chksum
    fam = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    addrs = socket.inet_pton(fam, ip.src) + socket.inet_pton(fam, ip.dst)
    pseudo = addrs + (struct.pack("!HH", 6, len(seg)) if ip.version == 4 else
                      struct.pack("!IxxxB", len(seg), 6))
    partial = fold(sum(struct.unpack("!%dH" % (len(pseudo) // 2), pseudo)))
    bad = (good + 0x1111) & 0xffff
    assert bad not in (good, partial)
    syn[TCP].chksum = bad
    sendp(Ether(dst=sys.argv[1]) / syn, iface="eth0", verbose=False)
    n += 1
print(n)
PY
)
assert_eq "two SYNs with a wrong checksum sent (IPv4, IPv6)" 2 "$sent"
tb_wait_for "TcpInCsumErrors rose by 2" 50 \
	sh -c "[ \$(ip netns exec $TB_APP nstat -saz TcpInCsumErrors |
	   awk '\$1 == \"TcpInCsumErrors\" {print \$2}') -ge $((csum_before + 2)) ]"
assert_eq "the appliance's kernel counted both as checksum errors" $((csum_before + 2)) \
	"$(app_nstat TcpInCsumErrors)"

say "loss under overload is counted (imissed)"
rx0=$(nic_stat ipackets) miss0=$(nic_stat imissed)
wire0=$(in_app cat /sys/class/net/pmx-wire/statistics/rx_packets)
kill -STOP "$TB_DAEMON_PID" # the RX lcore stops reading; the packet socket's ring fills
in_peer "$PMX_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"x" * 64, ("198.18.0.1", 9))'
kill -CONT "$TB_DAEMON_PID"
wire1=$(in_app cat /sys/class/net/pmx-wire/statistics/rx_packets)
accounted() { echo $(($(nic_stat ipackets) - rx0 + $(nic_stat imissed) - miss0)); }
tb_wait_for "the switch accounts for every frame that reached pmx-wire" 100 \
	sh -c "[ \"\$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK |
	   jq '.result.ports[0].nic | .ipackets - $rx0 + .imissed - $miss0')\" -ge $((wire1 - wire0)) ]"
missed=$(($(nic_stat imissed) - miss0))
echo "pmx-wire received $((wire1 - wire0)) frames; the switch: $(($(nic_stat ipackets) - rx0)) received, $missed missed"
assert_eq "frames were lost while the RX lcore was stopped" 1 $((missed > 0))
assert_eq "received + missed = every frame that reached pmx-wire" $((wire1 - wire0)) \
	"$(accounted)"

tb_stop_daemon
features "after"
assert_match "after: GRO back on" "generic-receive-offload: on" "$(in_app ethtool -k pmx-wire)"
assert_done
