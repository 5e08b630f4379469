#!/usr/bin/env bash
# test_ports.sh - port reservation both ways, on the appliance's real kernel: a client cannot
# claim a port the kernel listens on (EADDRINUSE, from /proc/net), the kernel cannot bind a
# port a client owns (portmuxd holds a socket on it) until the client releases it or goes
# away, and used_ports lists both sides (listening and connected).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CTL="$PMX_BUILD/tools/portmux-ctl/portmux-ctl"
SESSION="$PMX_ROOT/tests/tools/pmx_session.py"
# kernel_bind PROTO IP PORT: can a kernel program bind there now? prints "ok" or the errno name
kernel_bind() {
	in_app "$PMX_PY" -c '
import errno, socket, sys
proto, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
try:
    s.bind((ip, port)); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$@"
}
reply_code() { jq -r 'if .ok then "ok" else .error.code end' <<< "$1"; }

pmx_hugepages 512
tb_up
tb_start_daemon

# the kernel listens on tcp 2222 and has a connection from the peer on it
tb_bg ksrv socat TCP-LISTEN:2222,fork,reuseaddr SYSTEM:'sleep 20'
tb_wait_for "kernel :2222 listening" 50 in_app sh -c "ss -ltn | grep -q ':2222 '"
tb_bg_peer kconn socat -T 20 TCP:198.18.0.1:2222 SYSTEM:'sleep 20'
tb_wait_for "kernel connection established" 50 in_app sh -c "ss -tn state established | grep -q ':2222 '"

# a client asks for the kernel's port (every address, and one), and for free ones
tb_bg holder "$PMX_PY" "$SESSION" "$TB_SOCK" '{"cmd":"hello","name":"holder"}' \
	'{"cmd":"listen","proto":"tcp","port":2222}' \
	'{"cmd":"listen","proto":"tcp","ip":"198.18.0.1","port":2222}' \
	'{"cmd":"listen","proto":"tcp","port":3333}' \
	'{"cmd":"listen","proto":"udp","port":3334}' \
	'{"cmd":"listen","proto":"udp","ip":"198.18.0.1","port":3335}' \
	'{"cmd":"connect","proto":"tcp","local_ip":"198.18.0.1","local_port":40001,"remote_ip":"198.18.0.2","remote_port":80}'
tb_wait_for "holder's 7 replies" 100 sh -c "[ \$(wc -l < $TB_DIR/holder.log) -ge 7 ]"
mapfile -t replies < "$TB_DIR/holder.log"
assert_eq "client hello" ok "$(reply_code "${replies[0]}")"
assert_eq "kernel's tcp 2222 (any address) refused to a client" EADDRINUSE "$(reply_code "${replies[1]}")"
assert_match "the refusal names the kernel's socket" "the kernel uses tcp" "${replies[1]}"
assert_eq "kernel's tcp 2222 (its address) refused to a client" EADDRINUSE "$(reply_code "${replies[2]}")"
assert_eq "free tcp 3333 granted" ok "$(reply_code "${replies[3]}")"
assert_eq "free udp 3334 granted" ok "$(reply_code "${replies[4]}")"
assert_eq "free udp 198.18.0.1:3335 granted" ok "$(reply_code "${replies[5]}")"
assert_eq "connection from tcp 40001 granted" ok "$(reply_code "${replies[6]}")"

# the kernel cannot take what the client owns
assert_eq "kernel cannot bind tcp 3333" EADDRINUSE "$(kernel_bind tcp 0.0.0.0 3333)"
assert_eq "kernel cannot bind tcp 3333 on IPv6 either" EADDRINUSE "$(kernel_bind tcp :: 3333)"
assert_eq "kernel cannot bind udp 3334" EADDRINUSE "$(kernel_bind udp 198.18.0.1 3334)"
assert_eq "kernel cannot bind udp 198.18.0.1:3335" EADDRINUSE "$(kernel_bind udp 198.18.0.1 3335)"
assert_eq "kernel may bind udp 3335 on another address" ok "$(kernel_bind udp 127.0.0.1 3335)"
assert_eq "kernel cannot bind the client's connection port" EADDRINUSE \
	"$(kernel_bind tcp 198.18.0.1 40001)"
out=$(in_app timeout 3 socat -u TCP-LISTEN:3333 /dev/null 2>&1)
assert_match "a kernel server on the client's port fails" "Address already in use" "$out"

# used_ports: both sides
used=$("$CTL" -s "$TB_SOCK" --json show used ports)
assert_eq "used_ports: the kernel listens on tcp 2222" 1 \
	"$(jq '[.result.listening[] | select(.owner == "kernel" and .proto == "tcp" and .port == 2222)] | length' <<< "$used")"
assert_eq "used_ports: the kernel's connection on 2222" true \
	"$(jq '[.result.connected[] | select(.owner == "kernel" and .local_port == 2222 and .state == "established")] | length >= 1' <<< "$used")"
assert_eq "used_ports: the client's udp 3334" holder \
	"$(jq -r '.result.listening[] | select(.proto == "udp" and .port == 3334) | .owner.name' <<< "$used")"
assert_eq "used_ports: the client's connection" 40001 \
	"$(jq '.result.connected[] | select(.owner | type == "object") | select(.owner.name == "holder") | .local_port' <<< "$used")"
assert_eq "used_ports: portmuxd's own sockets are not listed as the kernel's" 0 \
	"$(jq '[.result.listening[] | select(.owner == "kernel" and (.port == 3333 or .port == 3334 or .port == 3335))] | length' <<< "$used")"
out=$("$CTL" -s "$TB_SOCK" show used ports)
assert_match "show used ports: table" "listen       kernel" "$out"
usnetd=$(pmx_req '"QueryUsedPorts"')
assert_eq "usnetd QueryUsedPorts lists tcp 2222" true \
	"$(jq '[.result.QueryUsedPortsAnswer.listening[] | select(.[0] == 6 and .[2] == 2222)] | length == 1' <<< "$usnetd")"

# a released rule frees its port; a client that goes away frees all of its ports
rule=$(jq -r '.result.rule_id' <<< "${replies[3]}")
out=$("$CTL" -s "$TB_SOCK" rule del "$rule")
assert_match "operator deletes the client's tcp 3333 rule" "rule $rule done" "$out"
assert_eq "kernel may bind tcp 3333 after the rule is gone" ok "$(kernel_bind tcp 0.0.0.0 3333)"
kill -TERM "$TB_PID_holder"
tb_wait_for "client detached" 50 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.clients | length') -eq 0 ]"
assert_eq "kernel may bind udp 3334 after the client left" ok "$(kernel_bind udp 198.18.0.1 3334)"
assert_eq "kernel may bind udp 198.18.0.1:3335 after the client left" ok "$(kernel_bind udp 198.18.0.1 3335)"
assert_eq "kernel may bind tcp 40001 after the client left" ok "$(kernel_bind tcp 198.18.0.1 40001)"
assert_done
