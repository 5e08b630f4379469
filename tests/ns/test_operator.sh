#!/usr/bin/env bash
# test_operator.sh - what an operator runs against a live appliance: portmuxd -i with its
# prompt driven through a pipe (completion, help, commands while the socket keeps serving,
# quit), portmux-ctl (tables, --json, exit codes, --version, an unprivileged user kept out by
# the socket mode), operator rules that take effect in the dataplane, clear stats,
# dpdk-telemetry.py (/portmux/stats, /portmux/clients, /portmux/rules) and dpdk-dumpcap
# capturing frames sent by the peer.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

# prompt TEXT: type TEXT at the daemon's prompt; waits until its output has grown by MARK
prompt() { printf '%b' "$1" >&7; }
tcp_probe() { in_peer timeout 4 socat -T 2 - "TCP:198.18.0.1:$1,connect-timeout=2" < /dev/null 2>&1; }

pmx_hugepages 512
tb_up
tb_config

# portmuxd -i: the prompt reads a pipe that this test keeps open (fd 7)
mkfifo "$TB_DIR/prompt"
TB_LOG=$TB_DIR/portmuxd.log
ip netns exec "$TB_APP" "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_CONF" -i \
	< "$TB_DIR/prompt" > "$TB_LOG" 2>&1 &
TB_DAEMON_PID=$!
tb_on_exit "tb_stop_daemon"
exec 7> "$TB_DIR/prompt"
tb_on_exit "exec 7>&-"
tb_wait_for "portmuxd ready" 200 grep -q '^ready' "$TB_LOG" || { cat "$TB_LOG"; exit 1; }
ip -n "$TB_APP" addr add 198.18.0.1/24 dev pmx0
ip -n "$TB_APP" link set pmx0 up
assert_match "the prompt is shown" "portmux> " "$(cat "$TB_LOG")"

tb_echo echo 7
in_peer ping -c 3 -i 0.2 -W 2 198.18.0.1 > /dev/null
assert_eq "UDP :7 echoed" "hi" "$(printf hi | in_peer timeout 3 socat -T 2 - UDP:198.18.0.1:7)"

# ---- portmux-ctl ----
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$PMX_ROOT/meson.build" | head -1)
assert_eq "portmux-ctl --version prints the project version" "portmux-ctl $version" \
	"$("$PMX_BUILD/tools/portmux-ctl/portmux-ctl" --version)"
out=$(tb_ctl show clients); rc=$?
assert_eq "show clients: exit 0" 0 "$rc"
assert_match "show clients: the echo client" "portmux-echo" "$out"
assert_match "show clients: header" "RING-FULL" "$out"
echo "$out"
assert_eq "--json show clients: one client" 1 "$(tb_ctl --json show clients | jq '.result.clients | length')"
out=$(tb_ctl show port stats all)
echo "$out"
assert_match "show port stats all: testpmd banner" "NIC statistics for port 0" "$out"
rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' <<< "$out" | head -1)
assert_eq "show port stats all: the peer's frames counted" true "$([ "${rx:-0}" -ge 4 ] && echo true)"
out=$(tb_ctl show port info 0)
assert_match "show port info 0: driver" "Driver name: portmux af_packet on pmx-wire (ring ethdev net_ring_pmx_pmx-wire)" "$out"
assert_match "show port info 0: kernel path" "Kernel path: tap pmx0" "$out"
assert_match "show port info 0: flow offload" "Flow offload:" "$out"
assert_match "show rules: the client's rule" "*:7" "$(tb_ctl show rules)"
assert_match "show lcores: the RX lcore" "RX worker 0" "$(tb_ctl show lcores)"

# operator rules reach the dataplane: a drop rule on tcp 2222 silences the kernel's RST
assert_match "without a rule the kernel refuses tcp 2222" "refused" "$(tcp_probe 2222)"
drops_before=$(tb_ctl --json show port stats all | jq '.result.drops.rule')
out=$(tb_ctl rule add listen tcp any 2222 drop); rc=$?
assert_eq "rule add: exit 0" 0 "$rc"
rule=$(sed -n 's/^rule \([0-9]*\) done$/\1/p' <<< "$out")
assert_match "with a drop rule tcp 2222 times out" "timed out" "$(tcp_probe 2222)"
drops_after=$(tb_ctl --json show port stats all | jq '.result.drops.rule')
assert_eq "the dropped SYNs are counted under 'rule'" true "$([ $((drops_after - drops_before)) -ge 1 ] && echo true)"
out=$(tb_ctl rule add listen udp any 7 kernel 2>&1); rc=$?
assert_eq "rule add on a client's port: exit 1" 1 "$rc"
assert_match "rule add on a client's port: EADDRINUSE" "EADDRINUSE" "$out"
tb_ctl rule del "$rule" > /dev/null
assert_match "after rule del the kernel answers again" "refused" "$(tcp_probe 2222)"

# errors and exit codes
out=$(tb_ctl rule del 99999 2>&1); rc=$?
assert_eq "rule del of no rule: exit 1" 1 "$rc"
assert_match "rule del of no rule: ENOENT" "error: ENOENT" "$out"
tb_ctl frobnicate > /dev/null 2>&1
assert_eq "not a command: exit 2" 2 "$?"
"$PMX_BUILD/tools/portmux-ctl/portmux-ctl" -s "$TB_DIR/nowhere.sock" show clients > /dev/null 2>&1
assert_eq "no daemon: exit 3" 3 "$?"
# as another user: the socket's mode (0660 root:root) keeps it out; with the mode opened,
# SO_PEERCRED still keeps it from operator commands while it may read stats
chmod 0711 "$TB_DIR" # only the socket's own mode decides now
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PMX_BUILD/tools/portmux-ctl/portmux-ctl" -s "$TB_SOCK" "$@"; }
assert_eq "the socket file has control.mode" 660 "$(stat -c %a "$TB_SOCK")"
out=$(as_nobody show clients 2>&1); rc=$?
assert_eq "an unprivileged user is kept out by the socket mode: exit 3" 3 "$rc"
assert_match "... with permission denied" "Permission denied" "$out"
chmod 0666 "$TB_SOCK"
out=$(as_nobody show clients 2>&1); rc=$?
assert_eq "an unprivileged user gets no operator command: exit 1" 1 "$rc"
assert_match "... EPERM" "error: EPERM" "$out"
as_nobody show port stats all > /dev/null
assert_eq "an unprivileged user may read stats" 0 "$?"
chmod 0660 "$TB_SOCK"

# clear port stats all: counts start again from zero (baselines; workers' counters untouched)
tb_ctl clear port stats all > /dev/null
assert_eq "after clear, port rx restarts from 0" true \
	"$(tb_ctl --json show port stats all | jq '.result.ports[0].rx < 4')"

# ---- the prompt, while the socket keeps serving ----
prompt 'show clients\n'
tb_wait_for "prompt: show clients" 150 grep -q 'portmux-echo' "$TB_LOG"
prompt 'show port stats all\n'
tb_wait_for "prompt: show port stats all with testpmd's rates" 150 \
	grep -q 'Throughput (since last show)' "$TB_LOG"
assert_eq "prompt: show port stats all prints testpmd's rates" 0 "$?"
prompt 'set kernel policy firewall\n'
tb_wait_for "prompt: policy set" 150 grep -q 'kernel policy: firewall' "$TB_LOG"
assert_eq "prompt command seen over the socket" firewall \
	"$(tb_ctl --json show port stats all | jq -r '.result.kernel_policy')"
prompt 'set kernel policy pass\n'
tb_wait_for "prompt: policy back" 150 grep -q 'kernel policy: pass' "$TB_LOG"
# TAB completes words: "sho<TAB>lc<TAB>" is "show lcores"
prompt 'sho\tlc\t\n'
tb_wait_for "prompt: completed show lcores" 150 grep -q 'RX worker 0' "$TB_LOG"
prompt 'help\n'
tb_wait_for "prompt: help" 150 grep -q 'rule add listen <proto>' "$TB_LOG"
prompt 'no such thing\n'
tb_wait_for "prompt: bad command" 150 grep -q 'Command not found' "$TB_LOG"

# ---- telemetry ----
stats=$(tb_telemetry /portmux/stats)
assert_eq "telemetry /portmux/stats: kernel policy" pass "$(jq -r '.kernel_policy' <<< "$stats")"
assert_eq "telemetry /portmux/stats: port counters" true "$(jq '.ports."0/rx" >= 0' <<< "$stats")"
assert_eq "telemetry /portmux/stats: drop reasons" true "$(jq '.drops | has("no_route")' <<< "$stats")"
clients=$(tb_telemetry /portmux/clients)
assert_eq "telemetry /portmux/clients: one" 1 "$(jq '.total' <<< "$clients")"
assert_eq "telemetry /portmux/clients: its name" portmux-echo "$(jq -r '.["0"].name' <<< "$clients")"
rules=$(tb_telemetry /portmux/rules)
assert_eq "telemetry /portmux/rules: the client's rule" 7 \
	"$(jq '[to_entries[] | select(.value | type == "object") | .value.local_port][0]' <<< "$rules")"

# ---- capture: dpdk-dumpcap on port 0 while the peer pings ----
tb_bg_peer pinger ping -c 100 -i 0.1 198.18.0.1
timeout 30 dpdk-dumpcap --file-prefix="$TB_PREFIX" -i 0 -c 5 -w "$TB_DIR/cap.pcapng" \
	> "$TB_DIR/dumpcap.log" 2>&1
assert_eq "dpdk-dumpcap captured and exited" 0 "$?"
kill "$TB_PID_pinger" 2>/dev/null
n=$(tcpdump -nr "$TB_DIR/cap.pcapng" 2>/dev/null | grep -c 'ICMP echo')
assert_eq "the capture holds the peer's pings" true "$([ "$n" -ge 2 ] && echo true)"
assert_match "the capture holds the peer's source address" "198.18.0.2 > 198.18.0.1" \
	"$(tcpdump -nr "$TB_DIR/cap.pcapng" 2>/dev/null)"

# ---- quit at the prompt stops the daemon cleanly ----
prompt 'quit\n'
tb_wait_for "portmuxd exits after quit" 100 sh -c "! kill -0 $TB_DAEMON_PID 2>/dev/null"
wait "$TB_DAEMON_PID"
assert_eq "portmuxd exit status after quit" 0 "$?"
# tb_stop_daemon (at exit) still removes its runtime files
assert_match "portmuxd stopped in order" "portmuxd: stopping" "$(cat "$TB_LOG")"
assert_done
