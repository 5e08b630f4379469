#!/usr/bin/env bash
# test_static_rules.sh - the config file's "rules" (usnetd's static pipes) on the testbed: a
# rule on a port the kernel holds stops the start-up, naming the rule; a UDP rule for the
# client name "echo-static" exists from start-up (listed with origin config, its port held
# against the kernel); datagrams to it while no such client is attached are dropped as
# owner_absent and never reach the kernel; portmux-echo attaching as "echo-static" answers
# them; once it is gone the rule is still there and the drops start again.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CTL=$PMX_BUILD/tools/portmux-ctl/portmux-ctl
# req JSON: pmx_req with room for a management loop slowed down by a loaded machine (its RCU
# waits for the RX lcore after an address change): an answer must come, and counts
req() { printf '%s\n' "$1" | socat -t 30 - "UNIX-CONNECT:$TB_SOCK"; }
pmx_hugepages 512
tb_up
tb_config
RULES='[{"kind": "listen", "proto": "udp", "local_port": 5353, "owner": "echo-static"}]'
jq --argjson r "$RULES" '.rules = $r' "$TB_CONF" > "$TB_DIR/static.json"

say "a config rule on a port the kernel uses: portmuxd does not start"
tb_bg kernel5399 socat -u UDP-RECV:5399 -
tb_wait_for "kernel socket on UDP 5399" 50 in_app sh -c "ss -lun | grep -q ':5399 '"
jq '.rules += [{"kind": "listen", "proto": "udp", "local_port": 5399, "owner": "x"}]
    | .control.socket += ".bad"' "$TB_DIR/static.json" > "$TB_DIR/taken.json"
rc=0
timeout 60 ip netns exec "$TB_APP" "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_DIR/taken.json" \
	-- --file-prefix "${TB_PREFIX}x" > "$TB_DIR/taken.log" 2>&1 < /dev/null || rc=$?
assert_eq "portmuxd exits with status 1" 1 "$rc"
assert_match "the error names the rule and the kernel's socket" \
	"rules[1]: the kernel uses udp 0.0.0.0 port 5399" "$(cat "$TB_DIR/taken.log")"
rm -rf "/var/run/dpdk/${TB_PREFIX}x" /dev/hugepages/"${TB_PREFIX}x"* 2>/dev/null

say "from start-up: the rule exists, no one owns it, the kernel cannot take its port"
TB_CONF=$TB_DIR/static.json
tb_start_daemon
rule=$(req '{"cmd":"rules"}' | jq -c '.result.rules[] | select(.local_port == 5353)')
assert_eq "listed with origin config, owner by name only, port held" \
	'config {"name":"echo-static"} true' \
	"$(jq -r '"\(.origin) \(.owner | tojson) \(.reserved)"' <<< "$rule")"
rule_id=$(jq '.rule_id' <<< "$rule")
out=$(in_app timeout 5 socat -u UDP-RECV:5353 - 2>&1)
assert_match "a kernel socket cannot bind UDP 5353" "Address already in use" "$out"
assert_match "show rules: origin config, owner absent" "- (echo-static)" \
	"$(PORTMUX_SOCKET=$TB_SOCK "$CTL" show rules)"

# what reaches the kernel on the port: its interface's capture
tb_bg capture tcpdump -i pmx0 -n -U -w "$TB_DIR/kernel.pcap" udp port 5353
tb_wait_for "tcpdump on pmx0" 50 grep -q "listening on" "$TB_DIR/capture.log"
absent() { req '{"cmd":"stats"}' | jq '.result.drops.owner_absent'; }
# wait_absent N: until owner_absent has reached N (bounded)
wait_absent() { tb_wait_for "$1 owner_absent drops" 50 bash -c "[ \$(absent) -ge $1 ]"; }
export -f absent req; export TB_SOCK
# send N [TAG]: N datagrams from the peer; prints how many answers came back
send() {
	local n=$1 tag=${2:-x} i got=0 out
	for ((i = 1; i <= n; i++)); do
		out=$(printf 'static-%s-%s' "$tag" "$i" |
			in_peer timeout 5 socat -t 1 -T 1 - UDP:198.18.0.1:5353)
		[ "$out" = "static-$tag-$i" ] && got=$((got + 1))
	done
	echo "$got"
}

say "no client of the name: dropped as owner_absent, not given to the kernel"
a0=$(absent)
assert_eq "no answer to 4 datagrams" 0 "$(send 4 before)"
wait_absent $((a0 + 4))
assert_eq "4 datagrams counted owner_absent" 4 $(($(absent) - a0))
assert_match "show port stats: the drop reason is printed" "owner_absent" \
	"$(PORTMUX_SOCKET=$TB_SOCK "$CTL" show port stats all)"

say "portmux-echo attaches as echo-static: the rule is its own, it answers"
tb_echo echo -n echo-static 5353
assert_match "echo took the config rule" "a config rule of its name" "$(cat "$TB_DIR/echo.log")"
owner=$(req '{"cmd":"rules"}' | jq -c ".result.rules[] | select(.rule_id == $rule_id) | .owner")
assert_eq "the rule's owner is the attached client" '"echo-static" true' \
	"$(jq -r '"\(.name | tojson) \(has("client_id"))"' <<< "$owner")"
assert_eq "5 datagrams echoed" 5 "$(send 5 during)"

say "echo-static detaches: the rule stays, the drops start again"
kill -TERM "$TB_PID_echo"
tb_wait_for "echo client exit" 50 grep -q echoed "$TB_DIR/echo.log"
tb_wait_for "no client attached" 50 bash -c \
	"[ \$(req '{\"cmd\":\"clients\"}' | jq '.result.clients | length') = 0 ]"
rule=$(req '{"cmd":"rules"}' | jq -c ".result.rules[] | select(.rule_id == $rule_id)")
assert_eq "still listed, same id, origin config, owner absent, port held" \
	'config {"name":"echo-static"} true' \
	"$(jq -r '"\(.origin) \(.owner | tojson) \(.reserved)"' <<< "$rule")"
a1=$(absent)
assert_eq "no answer to 3 datagrams" 0 "$(send 3 after)"
wait_absent $((a1 + 3))
assert_eq "3 more counted owner_absent" 3 $(($(absent) - a1))

# the kernel's interface saw none of the 7 unanswered datagrams (nor the 5 echoed)
kill -INT "$TB_PID_capture"
tb_wait_for "tcpdump exit" 50 sh -c "! kill -0 $TB_PID_capture"
assert_eq "no UDP 5353 frame reached the kernel" 0 \
	"$(tcpdump -r "$TB_DIR/kernel.pcap" -n 2>/dev/null | wc -l)"
assert_done
