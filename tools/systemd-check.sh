#!/usr/bin/env bash
# systemd-check.sh - portmuxd under a real systemd and journald: boots this host's own /usr in
# a container (systemd-nspawn --volatile=yes: empty /etc, no network but lo) with the shipped
# unit (ExecStart pointed at this build, a net_null NIC port) and checks that
#   - "systemctl start portmuxd" returns only after portmuxd logged "ready" (Type=notify),
#     and the unit's status text is portmuxd's STATUS= line;
#   - every log line is in the journal once, with its priority (a warning is priority 4), and
#     none arrives through syslog; with JOURNAL_STREAM unset (DPDK's default stream) EAL's
#     lines after its log set-up arrive twice, once through syslog, as before;
#   - with WatchdogSec=2s, stopping the RX lcore's thread (ptrace, 4 s) makes systemd kill
#     portmuxd (SIGABRT, result "watchdog") and start it again;
#   - "systemctl stop" is a clean stop ("portmuxd: stopping", no failure).
# Needs root, systemd-nspawn (Debian: systemd-container), a build (ninja -C build).
# Usage: tools/systemd-check.sh. Everything it starts it stops; the container is powered off.
set -u
source "$(dirname "$0")/lib.sh"
source "$PMX_ROOT/tests/ns/assert.sh"
command -v systemd-nspawn > /dev/null || die "systemd-nspawn missing (apt-get install systemd-container)"
DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
[ -x "$DAEMON" ] || die "no $DAEMON: build first"
trap tb_cleanup EXIT
pmx_hugepages 512

D=$(mktemp -d /tmp/portmux-systemd-check.XXXXXX)
tb_on_exit "rm -rf $D"
prefix=pmxsdc$$ machine=pmxsdc$$
mkdir -p "$D/system" "$D/etc"
# the shipped unit, with this build's binary and a file-prefix of this run's. The build is
# bound at /opt/portmux-build in the container: a booted systemd mounts a tmpfs on /tmp (and
# /run), which would hide a checkout there (as CI's clones under /tmp are)
CT_BUILD=/opt/portmux-build
sed -e "s|^ExecStart=.*|ExecStart=$CT_BUILD/app/portmuxd/portmuxd -c /etc/portmux/portmux.json|" \
	-e "s|RuntimeDirectory=portmux dpdk/portmux|RuntimeDirectory=portmux dpdk/$prefix|" \
	"$PMX_ROOT/conf/portmuxd.service" > "$D/system/portmuxd.service"
cat > "$D/etc/portmux.json" <<JSON
{ "eal": ["-l", "0-1", "--no-pci", "--file-prefix", "$prefix"],
  "ports": [ { "name": "p0", "device": "net_null0", "exception": { "type": "none" } } ],
  "mbufs": 4096 }
JSON
tb_on_exit "rm -rf /dev/hugepages/$prefix* /var/run/dpdk/$prefix"

say "boot systemd in a container ($machine)"
# --register=no --keep-unit: the host's PID 1 is not systemd (no machined, no scopes);
# /sys/module: EAL's VFIO check reads it; firstboot would wait for a key on the console
systemd-nspawn --quiet --register=no --keep-unit --directory=/ --volatile=yes \
	--private-network --boot --machine="$machine" --bind-ro="$PMX_BUILD:$CT_BUILD" \
	--bind-ro="$D/system:/etc/systemd/system" --bind-ro="$D/etc:/etc/portmux" \
	--bind=/dev/hugepages --bind-ro=/sys/module systemd.firstboot=off \
	> "$D/nspawn.log" 2>&1 < /dev/null & # the container's console: kept in the log
nspawn=$!
init=
for _ in $(seq 120); do
	init=$(pgrep -P $nspawn -x systemd | head -1)
	[ -n "$init" ] && break
	sleep 0.5
done
[ -n "$init" ] || { cat "$D/nspawn.log"; kill $nspawn; die "the container's systemd did not start"; }
tb_on_exit "kill -9 $init 2>/dev/null; wait $nspawn 2>/dev/null"
IN() { nsenter -t "$init" -m -p -u -i -n "$@"; }
for _ in $(seq 120); do
	case $(IN systemctl is-system-running 2>/dev/null) in running | degraded) break ;; esac
	sleep 0.5
done
echo "container: $(IN systemctl is-system-running 2>/dev/null)"
jr() { IN journalctl -u portmuxd --since "$1" -o json --no-pager 2>/dev/null; }

say "Type=notify: systemctl start returns after ready"
since=$(date '+%F %T')
IN systemctl start portmuxd
rc=$?
returned=$(date +%s%6N)
assert_eq "systemctl start portmuxd: success" 0 "$rc"
ready_at=$(jr "$since" | jq -r 'select(.MESSAGE == "ready") | .__REALTIME_TIMESTAMP' | head -1)
assert_eq "portmuxd logged ready before systemctl start returned" true \
	"$([ -n "$ready_at" ] && [ "$ready_at" -le "$returned" ] && echo true || echo "ready at [$ready_at], returned $returned")"
assert_eq "the unit's status is portmuxd's STATUS= line" \
	"StatusText=ready: 1 port(s), 1 RX lcore(s), watchdog on" \
	"$(IN systemctl show portmuxd -p StatusText)"
IN systemctl stop portmuxd
assert_eq "systemctl stop: inactive, not failed" inactive "$(IN systemctl is-active portmuxd)"
jr "$since" | jq -r 'select(._COMM == "portmuxd") | "\(._TRANSPORT) <\(.PRIORITY)> \(.MESSAGE)"' |
	tee "$D/after.txt"
assert_eq "each line once in the journal" "" \
	"$(jr "$since" | jq -r 'select(._COMM == "portmuxd") | .MESSAGE' | sort | uniq -d)"
assert_eq "nothing through syslog" 0 "$(grep -c '^syslog' "$D/after.txt")"
assert_match "a warning at priority 4" "<4> TELEMETRY:" "$(cat "$D/after.txt")"
assert_match "the clean stop is logged" "portmuxd: stopping" "$(cat "$D/after.txt")"

say "as before: JOURNAL_STREAM unset, DPDK's default log stream"
mkdir -p "$D/system/portmuxd.service.d"
printf '[Service]\nUnsetEnvironment=JOURNAL_STREAM\n' > "$D/system/portmuxd.service.d/before.conf"
IN systemctl daemon-reload
sleep 1
since=$(date '+%F %T')
IN systemctl start portmuxd && IN systemctl stop portmuxd
jr "$since" | jq -r 'select(._COMM == "portmuxd") | "\(._TRANSPORT) <\(.PRIORITY)> \(.MESSAGE)"'
assert_match "EAL's lines come twice (stdout and syslog)" "TELEMETRY: No legacy callbacks" \
	"$(jr "$since" | jq -r 'select(._COMM == "portmuxd") | .MESSAGE' | sort | uniq -d)"
rm "$D/system/portmuxd.service.d/before.conf"

say "watchdog: WatchdogSec=2s, the RX lcore stopped for 4 s"
printf '[Service]\nWatchdogSec=2s\n' > "$D/system/portmuxd.service.d/wd.conf"
IN systemctl daemon-reload
sleep 1
since=$(date '+%F %T')
IN systemctl start portmuxd
pid=$(pgrep -P "$init" -x portmuxd | head -1)
tid=
for t in /proc/"$pid"/task/*; do [ "$(cat "$t/comm")" = rte-worker-1 ] && tid=${t##*/}; done
"$PMX_PY" - "$tid" << 'PY'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
tid = int(sys.argv[1])
# PTRACE_SEIZE + PTRACE_INTERRUPT: this one thread stops, the management lcore runs on
assert libc.ptrace(0x4206, tid, None, None) == 0, "cannot seize the RX lcore's thread"
libc.ptrace(0x4207, tid, None, None)
os.waitpid(tid, 0x40000000)
time.sleep(4)
libc.ptrace(17, tid, None, None)
PY
for _ in $(seq 40); do
	[ "$(IN systemctl show portmuxd -p NRestarts --value)" -ge 1 ] &&
		[ "$(IN systemctl is-active portmuxd)" = active ] && break
	sleep 0.5
done
IN journalctl -u portmuxd --since "$since" -o short-precise --no-pager |
	grep -v -e 'EAL:' -e 'TELEMETRY' -e 'port 0 p0'
journal=$(IN journalctl -u portmuxd --since "$since" --no-pager)
assert_match "portmuxd says the RX lcore stalled" "watchdog: RX lcore 1 made no progress" "$journal"
assert_match "systemd's watchdog fired" "Watchdog timeout (limit 2s)" "$journal"
assert_match "and restarted it" "restart counter is at 1" "$journal"
assert_eq "it runs again" active "$(IN systemctl is-active portmuxd)"
IN systemctl stop portmuxd
IN systemctl poweroff
wait $nspawn
assert_done
