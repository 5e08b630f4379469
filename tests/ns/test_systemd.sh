#!/usr/bin/env bash
# test_systemd.sh - portmuxd as a Type=notify service, seen through a fake systemd
# (fake_systemd.py; no systemd runs on the test machines): READY=1 only once "ready" is
# printed, STATUS= lines, keep-alives at half of WATCHDOG_USEC while the RX lcore loops, none
# while that one thread is stopped (ptrace) for longer than the interval, again once it runs,
# STOPPING=1 on SIGTERM before a clean exit; with JOURNAL_STREAM naming stderr, every stderr
# line opens with a syslog priority "<N>" and nothing goes to syslog. No namespace: a net_null
# NIC port without kernel path.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
[ -x "$DAEMON" ] || die "no $DAEMON: build first"
pmx_hugepages 512
D=$(mktemp -d /tmp/portmux-systemd.XXXXXX)
tb_on_exit "rm -rf $D"
prefix=pmxsd$$
tb_on_exit "rm -rf /dev/hugepages/$prefix* /var/run/dpdk/$prefix"
cat > "$D/portmux.json" <<JSON
{ "eal": ["-l", "0-1", "--no-pci", "--file-prefix", "$prefix"],
  "ports": [ { "name": "p0", "device": "net_null0", "exception": { "type": "none" } } ],
  "control": { "socket": "$D/portmux.sock" }, "mbufs": 4096 }
JSON

say "fake systemd: 1 s watchdog, the RX lcore stopped for 2.5 s, SIGTERM"
# 2 s after READY=1 the RX lcore stops for 2.5 s; keep-alives every 0.5 s around it
"$PMX_PY" "$PMX_ROOT/tests/ns/fake_systemd.py" --dir "$D" --watchdog-usec 1000000 \
	--halt-thread rte-worker-1 --halt-at 2 --halt-for 2.5 --stop-at 7 \
	-- "$DAEMON" -c "$D/portmux.json" > "$D/events.json"
cat "$D/events.json"
ev() { jq -rs "$1" "$D/events.json"; }
assert_eq "READY=1 once" 1 "$(ev '[.[] | select(.notify? // "" | startswith("READY=1"))] | length')"
assert_eq "READY=1 came after portmuxd printed ready" true "$(ev '[.[] | .stdout_ready? // empty][0]')"
assert_match "READY=1 comes with a STATUS= line" "STATUS=ready: 1 port(s), 1 RX lcore(s), watchdog on" \
	"$(ev '.[] | .notify? // empty')"
halt=$(ev '[.[] | .t as $t | select(.halt?) | $t][0] // empty')
resume=$(ev '[.[] | .t as $t | select(.resume?) | $t][0] // empty')
[ -n "$halt" ] && [ -n "$resume" ] || assert_eq "the RX lcore was stopped and resumed" yes no
ka_before=$(ev "[.[] | select(.notify? == \"WATCHDOG=1\" and .t < $halt)] | length")
# while stopped: allow the one keep-alive whose window ended before the stop took effect
ka_during=$(ev "[.[] | select(.notify? == \"WATCHDOG=1\" and .t > $halt + 0.6 and .t < $resume)] | length")
ka_after=$(ev "[.[] | select(.notify? == \"WATCHDOG=1\" and .t > $resume)] | length")
assert_eq "keep-alives before the stop (>= 2)" true "$([ "$ka_before" -ge 2 ] && echo true || echo "$ka_before")"
assert_eq "no keep-alive while the RX lcore is stopped (1.9 s > the 1 s interval)" 0 "$ka_during"
assert_eq "keep-alives again once it runs (>= 1)" true "$([ "$ka_after" -ge 1 ] && echo true || echo "$ka_after")"
assert_match "a STATUS= line names the stalled lcore" "STATUS=RX lcore 1 stalled" "$(ev '.[] | .notify? // empty')"
assert_match "STOPPING=1 on SIGTERM" "STOPPING=1" "$(ev '[.[] | .notify? // empty] | last')"
assert_eq "clean exit" 0 "$(ev '[.[] | .exit? // empty][0]')"
assert_match "the journal gets the stall at priority 3 (error)" \
	"<3>portmux.main: watchdog: RX lcore 1 made no progress" "$(cat "$D/stderr.log")"
assert_eq "every stderr line opens with <N> (journal stream)" "" \
	"$(grep -v '^<[0-7]>' "$D/stderr.log")"
assert_done
