#!/usr/bin/env bash
# test_bad_config.sh - the bad-input catalogue: every tests/config/bad-*.json (listed in
# tests/config/expected-errors.txt with the message expected) and a few configs that parse but
# cannot start (no such device, queues not matching lcores, one lcore, a socket that cannot be
# bound, no such group, more mbufs than memory, no such exception device). Each run of portmuxd
# must exit non-zero with an error on stderr naming the key, and leave nothing behind: no
# hugepage files and no /var/run/dpdk directory of its file-prefix, no new network interface in
# its namespace, no socket file, no nftables table (wire_guard.c). A daemon without CAP_NET_ADMIN
# cannot keep the kernel off its af_packet interface and must say so. Then a valid config stopped by SIGTERM at several moments of
# its start-up: the daemon exits by itself and leaves nothing behind either.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

CONFIGS=$PMX_ROOT/tests/config
DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
[ -x "$DAEMON" ] || die "no $DAEMON: build first"

pmx_hugepages 512
tb_up
links() { ip -n "$TB_APP" -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' '; }
nft_tables() { in_app nft list tables | tr '\n' ' '; }
WRAP=() # a command portmuxd runs under (run_bad)

# run_bad NAME CONFIG EXPECTED PREFIX [SOCKET]: portmuxd -c CONFIG must fail cleanly.
# EAL arguments after "--" force the file-prefix, so whatever EAL would create has a known name.
run_bad() {
	local name=$1 conf=$2 expect=$3 prefix=$4 sock=${5:-} rc before after leftovers
	before=$(links)
	timeout 60 ip netns exec "$TB_APP" "${WRAP[@]}" "$DAEMON" -c "$conf" -- --file-prefix "$prefix" \
		> "$TB_DIR/$name.out" 2> "$TB_DIR/$name.err" < /dev/null
	rc=$?
	after=$(links)
	assert_eq "$name: exit status non-zero (not a crash, not a timeout)" 1 \
		$((rc != 0 && rc < 124))
	assert_match "$name: error names the key" "$expect" "$(cat "$TB_DIR/$name.err")"
	leftovers=$(ls -d /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix" 2>/dev/null | tr '\n' ' ')
	assert_eq "$name: no hugepage files, no runtime directory" "" "$leftovers"
	assert_eq "$name: no new network interface" "$before" "$after"
	assert_eq "$name: no nftables table" "" "$(nft_tables)"
	if [ -n "$sock" ]; then
		assert_eq "$name: no socket file" "" "$(ls "$sock" 2>/dev/null)"
	fi
	# anything left would break the next tests: remove it after the assertions
	rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix" 2>/dev/null
}

say "the catalogue: tests/config/bad-*.json"
n=0 t0=$SECONDS
for f in "$CONFIGS"/bad-*.json; do
	b=$(basename "$f")
	grep -q "^$b " "$CONFIGS/expected-errors.txt" ||
		assert_eq "$b is listed in expected-errors.txt" listed missing
done
while read -r file expect; do
	[ -n "$file" ] || continue
	n=$((n + 1))
	sock=$(jq -r '.control.socket // empty' "$CONFIGS/$file" 2>/dev/null)
	[ -n "$sock" ] && [ -e "$sock" ] && sock= # there before us: not ours to judge
	run_bad "$file" "$CONFIGS/$file" "$expect" "pmxbad${TB_ID}c$n" "$sock"
done < "$CONFIGS/expected-errors.txt"
echo "catalogue: $n bad configs in $((SECONDS - t0)) s"

say "configs that parse but cannot start"
t0=$SECONDS
# startup NAME EXPECTED LCORES DEVICE RXQ EXCEPTION CONTROL CLIENTS_AND_MBUFS
startup() {
	local name=$1 expect=$2 lcores=$3 device=$4 rxq=$5 exc=$6 control=$7 rest=$8
	local prefix=pmxbad${TB_ID}s$name conf=$TB_DIR/start-$name.json
	cat > "$conf" <<JSON
{
  "eal": ["-l", "$lcores", "--no-pci", "--log-level", "*:error"],
  "ports": [ { "name": "wan0", "device": "$device", "rx_queues": $rxq, "exception": $exc } ],
  "control": $control,
  $rest
}
JSON
	run_bad "start-$name" "$conf" "$expect" "$prefix" "$TB_DIR/$name.sock"
}
WIRE=net_af_packet0,iface=pmx-wire,qpairs=1
TAP='{ "type": "tap", "iface": "pmxbad0" }'
CTL() { echo "{ \"socket\": \"$TB_DIR/$1.sock\" ${2:-} }"; }
MB='"mbufs": 4096'
startup nodevice 'ports[0].device' 0-1 net_af_packet0,iface=does-not-exist 1 "$TAP" \
	"$(CTL nodevice)" "$MB"
startup queues 'ports[0].rx_queues' 0-1 "$WIRE" 2 "$TAP" "$(CTL queues)" "$MB"
startup onelcore 'eal: need two lcores' 0 "$WIRE" 1 "$TAP" "$(CTL onelcore)" "$MB"
startup group 'control.group' 0-1 "$WIRE" 1 "$TAP" "$(CTL group ', "group": "pmx-no-such-group"')" "$MB"
startup mbufs 'mbufs' 0-1 "$WIRE" 1 "$TAP" "$(CTL mbufs)" '"mbufs": 4194304'
startup pooldrv 'mbuf_pool: no mempool driver "no_such_pool"' 0-1 "$WIRE" 1 "$TAP" \
	"$(CTL pooldrv)" "$MB, \"mbuf_pool\": \"no_such_pool\""
startup excdev 'ports[0].exception' 0-1 "$WIRE" 1 \
	'{ "type": "device", "device": "net_no_such_driver0" }' "$(CTL excdev)" "$MB"
# a socket path that cannot be bound (its directory cannot be created under /proc)
cat > "$TB_DIR/start-socket.json" <<JSON
{ "eal": ["-l", "0-1", "--no-pci", "--log-level", "*:error"],
  "ports": [ { "name": "wan0", "device": "$WIRE", "exception": $TAP } ],
  "control": { "socket": "/proc/pmx-no-such-dir/portmux.sock" }, $MB }
JSON
run_bad start-socket "$TB_DIR/start-socket.json" 'control.socket' "pmxbad${TB_ID}ssocket"
# usnetd's socket cannot be bound: start-up fails naming the key; the control socket goes too
startup usnetd 'usnetd.socket: /proc/pmx-no-such-dir/usnetd.socket' 0-1 "$WIRE" 1 "$TAP" \
	"$(CTL usnetd)" "$MB, \"usnetd\": { \"socket\": \"/proc/pmx-no-such-dir/usnetd.socket\" }"
# without CAP_NET_ADMIN the wire cannot be guarded: start-up fails, naming interface and need
WRAP=(setpriv --bounding-set=-net_admin)
startup noadmin 'ports[0].device: interface "pmx-wire": cannot keep the kernel off it' 0-1 \
	"$WIRE" 1 '{ "type": "none" }' "$(CTL noadmin)" "$MB"
assert_match "noadmin: the message names the capability" CAP_NET_ADMIN "$(cat "$TB_DIR/start-noadmin.err")"
WRAP=()
echo "start-up failures: 10 configs in $((SECONDS - t0)) s"

say "stopped during start-up: SIGTERM at any moment leaves nothing behind"
# Whenever the signal lands (while EAL maps memory, while the mbufs are made, once ready),
# portmuxd exits by itself (status 0) and removes what it created; only a signal that comes
# before main() installed its handler takes the default action (143), before anything exists.
cat > "$TB_DIR/start-stop.json" <<JSON
{ "eal": ["-l", "0-1", "--no-pci", "--log-level", "*:error"],
  "ports": [ { "name": "wan0", "device": "$WIRE", "exception": $TAP } ],
  "control": $(CTL startstop), "mbufs": 131072 }
JSON
for delay in 0.1 0.3 0.6 1 ready; do
	prefix=pmxbad${TB_ID}t${delay/./}
	ip netns exec "$TB_APP" "$DAEMON" -c "$TB_DIR/start-stop.json" -- --file-prefix "$prefix" \
		> "$TB_DIR/startstop-$delay.out" 2>&1 < /dev/null &
	pid=$!
	if [ "$delay" = ready ]; then
		tb_wait_for "portmuxd ready" 300 grep -q '^ready' "$TB_DIR/startstop-$delay.out"
	else
		sleep "$delay"
	fi
	kill -TERM "$pid"
	rc=0
	timeout 30 tail --pid="$pid" -f /dev/null || rc=timeout
	[ "$rc" = timeout ] && kill -KILL "$pid"
	wait "$pid" 2>/dev/null || [ "$rc" = timeout ] || rc=$?
	if [ "$delay" = ready ]; then
		assert_eq "SIGTERM once ready: portmuxd exits by itself" 0 "$rc"
	else
		assert_eq "SIGTERM after ${delay}s: exits (0, or 143 before main), no timeout" \
			"0|143" "$(case $rc in 0 | 143) echo "0|143" ;; *) echo "$rc" ;; esac)"
	fi
	leftovers=$(ls -d /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix" "$TB_DIR/startstop.sock" \
		2>/dev/null | tr '\n' ' ')
	assert_eq "SIGTERM ($delay): no hugepage files, runtime directory, socket" "" "$leftovers"
	assert_eq "SIGTERM ($delay): no nftables table left on the wire" "" "$(nft_tables)"
	rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix" 2>/dev/null
done
assert_done
