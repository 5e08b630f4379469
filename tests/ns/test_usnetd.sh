#!/usr/bin/env bash
# test_usnetd.sh - usnetd's own clients, unmodified: tests/tools/usnetd_client.py speaks usnetd's
# datagram protocol as usnet_sockets does (its own bound path, one serde-JSON message per
# datagram, answers only from the socket's path) to portmuxd's "usnetd" socket. Covers:
# RequestUDS -> "$" with a SOCK_DGRAM descriptor; AddMatch of a UDP port -> "OK", the same
# again -> "ER"; a UDP datagram from the peer comes as a frame on the channel and the answer
# sent back on it reaches the peer; QueryUsedPorts lists the match in usnetd's answer shape; a
# second client: the first one's port -> "ER", the kernel's TCP :22 -> "ER", a port of its own
# -> "OK", RemoveMatch and DeleteClient answered nothing and its rules gone; an AddMatch without
# dst_port of ICMP to the appliance's address, whose kernel answers ping (icmp in kernel.allow)
# -> "ER" and a log line naming the conflict; a client sending from a MAC of its own
# (usnet_sockets' Random MAC) where the config does not allow it (usnetd.own_macs false, the
# default): the frame refused as spoofed and a log line that says why (tests/ns/
# test_usnetd_own_mac.sh: where it is allowed); RequestNetmapPipe
# -> "ER" with a log line naming netmap; an unknown interface -> "ER"; malformed datagrams
# (not JSON, an unknown variant, wrong types, oversize) -> "ER", each counted in stats; the
# first client killed with SIGKILL: its task is seen gone, its rule and channel go, the port
# is free again, no client left and no mbuf held.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CLIENT="python3 $(cd "$(dirname "$0")/../tools" && pwd)/usnetd_client.py"
command -v socat > /dev/null || die "socat missing"

stat_of() { pmx_req '{"cmd":"stats"}' | jq -c "$1"; }
# udp_listening: the UDP entries of the last QueryUsedPortsAnswer in a session on stdin
udp_listening() {
	grep '^< {"QueryUsedPortsAnswer"' | tail -1 | cut -c3- |
		jq -c '[.QueryUsedPortsAnswer.listening[] | select(.[0] == 17)]'
}
stat_is() { [ "$(stat_of "$1")" = "$2" ]; }
rules() { pmx_req '{"cmd":"rules"}' | jq -c '[.result.rules[] | .local_port]'; }
# usnetd STEP...: a one-shot usnetd client in the appliance; its session on stdout
usnetd() { in_app $CLIENT -s "$TB_USNETD" -d "$TB_DIR" "$@"; }
# udp_to_echo: one datagram from the peer to :7777, what comes back within 5 s
udp_to_echo() { in_peer socat -T 5 - UDP:198.18.0.1:7777 <<< "hello from the peer"; }

pmx_hugepages 512
tb_up
TB_USNETD=$TB_DIR/usnetd.socket # usnet_sockets hard-codes /run/usnetd.socket: a test does not
tb_config firewall # usnetd's model: the kernel gets tcp:22 and ping (kernel.allow)
tb_start_daemon
tb_sshd
assert_eq "the socket file is there, mode 0660" "660" "$(stat -c %a "$TB_USNETD")"
baseline_in_use=$(stat_of '.result.mempool.in_use')

# the first client: a UDP echo server on :7777 over usnetd's RequestUDS channel
tb_bg echo $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 add,udp,198.18.0.1,7777=OK \
	add,udp,198.18.0.1,7777=ER query echo,7777,1 ready
tb_wait_for "the usnetd client echoing" 100 grep -q "^echoing" "$TB_DIR/echo.log" ||
	die "usnetd client: $(cat "$TB_DIR/echo.log")"
assert_match "RequestUDS answered \$ with a descriptor" '< $ + descriptor' \
	"$(cat "$TB_DIR/echo.log")"
assert_eq "AddMatch answered OK, then ER for the same match" "< OK,< ER" \
	"$(grep -E '^< (OK|ER)$' "$TB_DIR/echo.log" | paste -sd,)"
assert_eq "QueryUsedPorts: usnetd's answer with the match" '[[17,{"Ipv4":"198.18.0.1"},7777]]' \
	"$(udp_listening < "$TB_DIR/echo.log")"
assert_match "and the kernel's listening TCP :22" '[6,{"Ipv4":"0.0.0.0"},22]' \
	"$(grep QueryUsedPortsAnswer "$TB_DIR/echo.log")"
assert_eq "the peer's datagram comes back through the channel" "hello from the peer" \
	"$(udp_to_echo)"
tb_wait_for "echo answered" 50 grep -q "^ready" "$TB_DIR/echo.log"
assert_match "the client saw one frame from the peer" "echoed" "$(cat "$TB_DIR/echo.log")"
assert_eq "the client is a uds client" '"uds"' \
	"$(pmx_req '{"cmd":"clients"}' | jq -c '.result.clients[0].channel')"

# a second client: conflicts, its own match, RemoveMatch and DeleteClient answer nothing
out=$(usnetd uds,pmx0 add,udp,198.18.0.1,7777=ER add,tcp,198.18.0.1,22=ER \
	add,udp,198.18.0.1,7778=OK remove,udp,198.18.0.1,7778=- add,udp,198.18.0.1,7778=OK \
	delete=- query)
assert_eq "second client: every answer as usnetd gives it" 0 $?
echo "$out"
assert_eq "its DeleteClient dropped its rule" '[[17,{"Ipv4":"198.18.0.1"},7777]]' \
	"$(usnetd query | udp_listening)"
assert_eq "only the first client's rule is left" "[7777]" "$(rules)"
assert_eq "the wan0 interface name also works" 0 "$(usnetd uds,wan0 delete=- > /dev/null; echo $?)"

# a whole protocol the kernel has: ICMP to its address (it answers ping) -> ER, said why
assert_eq "AddMatch of ICMP to the kernel's address without dst_port: ER" 0 \
	"$(usnetd uds,pmx0 add,icmp,198.18.0.1,null=ER delete=- > /dev/null; echo $?)"
assert_match "the log names the conflict" \
	"AddMatch refused: the kernel has icmp to 198.18.0.1 (kernel.allow lets it in: it answers ping)" \
	"$(cat "$TB_LOG")"
assert_eq "the kernel still answers ping" 0 \
	"$(in_peer ping -c 1 -W 5 198.18.0.1 > /dev/null; echo $?)"

# a client sending from a MAC of its own (usnet_sockets' Random MAC) where usnetd.own_macs is
# false (the default): refused, and said why
spoofed_before=$(stat_of '.result.drops.spoofed')
tb_bg spoof $CLIENT -s "$TB_USNETD" -d "$TB_DIR" uds,pmx0 spoof,02:00:00:00:00:99,198.18.0.1 \
	ready
tb_wait_for "the frame from a MAC of its own refused" 50 \
	grep -q "frames refused (drops.spoofed)" "$TB_LOG"
assert_match "the log says why a usnetd client's frame from another MAC went nowhere" \
	"frames from MAC 02:00:00:00:00:99 refused (drops.spoofed): usnetd.own_macs is false" \
	"$(cat "$TB_LOG")"
assert_eq "stats: no MAC learned, one refused" '[false,0,1]' \
	"$(stat_of '.result.usnetd | [.own_macs, .macs_learned, .macs_refused]')"
assert_eq "counted as spoofed" 1 "$(($(stat_of '.result.drops.spoofed') - spoofed_before))"
kill -KILL -- "-$TB_PID_spoof"
tb_wait_for "the spoofing client seen gone" 50 stat_is '.result.usnetd.gone' 1

# refused and malformed datagrams: ER, counted
usnetd netmap,pmx0=ER uds,eth9=ER raw,{=ER 'raw,"Hello"=ER' \
	'raw,{"RequestUDS":["pmx0","42"]}=ER' 'raw,{"AddMatch":[1]}=ER' big,5000=ER \
	'raw,{"QueryUsedPortsAnswer":{"listening":[],"connected":[]}}=ER' > "$TB_DIR/bad.log"
assert_eq "refused and malformed datagrams: each ER" 0 $?
assert_match "RequestNetmapPipe refused in the log, naming netmap" "portmux has no netmap" \
	"$(cat "$TB_LOG")"
assert_eq "stats: bad_json, bad_message, oversize, netmap" '[1,4,1,1]' \
	"$(stat_of '.result.usnetd | [.bad_json, .bad_message, .oversize, .netmap]')"

# the first client killed while attached: its task ends, its rule and channel go
kill -KILL -- "-$TB_PID_echo"
tb_wait_for "the killed client seen gone" 50 stat_is '.result.usnetd.gone' 2
assert_eq "usnetd clients gone: the two killed" 2 "$(stat_of '.result.usnetd.gone')"
assert_eq "no rule left" "[]" "$(rules)"
assert_eq "no client left" 0 "$(pmx_req '{"cmd":"clients"}' | jq '.result.clients | length')"
assert_eq "QueryUsedPorts no longer lists :7777" "[]" "$(usnetd query | udp_listening)"
assert_eq "a new client may take :7777" 0 \
	"$(usnetd uds,pmx0 add,udp,198.18.0.1,7777=OK delete=- > /dev/null; echo $?)"
tb_wait_for "every mbuf back" 50 stat_is ".result.mempool.in_use <= $baseline_in_use" true
assert_eq "no mbuf held after the clients left" "true" \
	"$(stat_of ".result.mempool.in_use <= $baseline_in_use")"
assert_done
