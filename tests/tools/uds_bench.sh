#!/usr/bin/env bash
# uds_bench.sh - the uds channel measured (not a test: prints figures, one run each):
#  1. the channel alone: uds-bench (tests/tools/uds_bench.c) sends itself 60-byte frames through
#     the switch (NIC idle: net_null): round trip one at a time, then frames/s and latency with
#     a window in flight; the uds I/O thread's CPU time per frame (schedstat of "pmx-uds").
#  2. ring clients beside a busy uds client: the NIC is net_pcap,infinite_rx on a trace to one
#     ring client (tools/bench/pmx-sink); its delivered rate measured without, then with
#     uds-bench running at full speed on the same switch.
# Layout on a 2-core machine: RX lcore on core 1; management lcore, uds I/O thread (a DPDK
# control thread: the main lcore's CPUs), the sink and uds-bench on core 0. The machine is
# shared: print the load with the figures.
# Usage: uds_bench.sh [SECONDS] (default 5)
set -u
source "$(dirname "$0")/../../tools/lib.sh"
trap tb_cleanup EXIT
DUR=${1:-5}
BENCH=$PMX_BUILD/tests/uds-bench
SINK=$PMX_BUILD/tools/bench/pmx-sink
[ -x "$BENCH" ] && [ -x "$SINK" ] || die "build first (uds-bench, pmx-sink)"
W=$(mktemp -d /tmp/portmux-udsbench.XXXXXX)
tb_on_exit "rm -rf $W"
pmx_hugepages 1024

# start NIC-DEVICE TAG: portmuxd on -l 0-1 with that NIC and a null kernel path at 198.18.0.1
start() {
	PREFIX=pmxudsb$$$2
	SOCK=$W/$2.sock
	cat > "$W/$2.json" <<JSON
{
  "eal": ["-l", "0-1", "--file-prefix", "$PREFIX", "--no-pci", "--log-level", "lib.eal:warning"],
  "ports": [ { "name": "wan0", "device": "$1",
      "exception": { "type": "device", "device": "net_null_k0,no-rx=1",
                     "addresses": ["198.18.0.1"] } } ],
  "kernel": { "policy": "pass" },
  "control": { "socket": "$SOCK", "mode": "0660", "group": null },
  "clients": { "max": 8, "ring_size": 4096 },
  "mbufs": 32768
}
JSON
	setsid "$PMX_BUILD/app/portmuxd/portmuxd" -c "$W/$2.json" > "$W/$2.log" 2>&1 < /dev/null &
	DPID=$!
	tb_on_exit "kill -KILL $DPID 2>/dev/null; rm -rf /var/run/dpdk/$PREFIX"
	tb_wait_for "portmuxd ready" 300 grep -q '^ready' "$W/$2.log" || die "no daemon"
}

stop() {
	kill -TERM "$DPID"
	tb_wait_for "portmuxd gone" 100 sh -c "! kill -0 $DPID"
	wait "$DPID" 2>/dev/null
}

# thread_ns PID COMM: CPU time (ns) of the thread named COMM of PID
thread_ns() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { cut -d' ' -f1 "$t/schedstat"; return; }
	done
	echo 0
}

# thread_cpus PID COMM: the CPUs the thread named COMM of PID may run on
thread_cpus() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] &&
			{ taskset -cp "${t##*/}" | sed 's/.*: //'; return; }
	done
}

say "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
say "1. the uds channel alone (NIC idle)"
start "net_null0,no-rx=1" idle
taskset -c 0 "$BENCH" -s "$SOCK" -d 1 -n 100 -p 19000 > /dev/null # starts the I/O thread
echo "the uds I/O thread runs on CPU(s) $(thread_cpus "$DPID" pmx-uds), the RX lcore on" \
	"$(thread_cpus "$DPID" rte-worker-1)"
busy() { printf '%s\n' '{"cmd":"stats"}' | socat -t 5 - "UNIX-CONNECT:$SOCK" | jq '.result.lcores[0].busy_cycles'; }
p0=$(thread_ns "$DPID" pmx-uds) c0=$(busy)
taskset -c 0 "$BENCH" -s "$SOCK" -d "$DUR" -n 2000 -w 256 | tee "$W/alone.txt"
p1=$(thread_ns "$DPID" pmx-uds) c1=$(busy)
frames=$(sed -n 's/^RESULT //p' "$W/alone.txt" | jq '.received + 2000')
[ "$frames" -gt 0 ] || die "no frame came back"
# every frame crosses the I/O thread twice (in and out) and the RX lcore once (TX check,
# local delivery); busy_cycles: TSC cycles of the RX lcore's loops that did work
echo "uds I/O thread: $(( (p1 - p0) / frames )) ns of CPU per frame (read + write)," \
	"RX lcore: $(( (c1 - c0) / frames )) TSC cycles per frame (busy loops)"
stop

say "2. a ring client's delivered rate without and with a busy uds client"
"$PMX_PY" "$PMX_ROOT/tools/bench/gen_trace.py" -o "$W/trace.pcap" -f 1024 -c 1 -p 1024 > /dev/null ||
	die "gen_trace.py failed"
start "net_pcap0,rx_pcap=$W/trace.pcap,infinite_rx=1" busy
for run in without with; do
	bpid=
	if [ "$run" = with ]; then
		taskset -c 0 "$BENCH" -s "$SOCK" -d $((DUR + 6)) -n 0 -w 256 -p 21000 > "$W/uds-$run.txt" &
		bpid=$!
		sleep 1
	fi
	taskset -c 0 "$SINK" -s "$SOCK" -n 1 -w 2 -d "$DUR" -q > "$W/sink-$run.txt" 2>&1
	[ -n "$bpid" ] && wait "$bpid"
	sed -n 's/^RESULT //p' "$W/sink-$run.txt" |
		jq -r --arg run "$run" '"ring client, \($run) a busy uds client: delivered \(.delivered / .window_s / 1e6 * 1000 | round / 1000) Mpps (\(.delivered / (.sink_cpu_ns / 1e9) / 1e6 * 1000 | round / 1000) Mpps per CPU second the sink got, \(.sink_cpu_ns / 1e7 / .window_s | round) % of core 0); RX lcore: NIC rx \(.rx / .window_s / 1e6 * 1000 | round / 1000) Mpps, \(.rx / ((.lcores[0].cpu_ns // 0) / 1e9 + 1e-9) / 1e6 * 1000 | round / 1000) Mpps per CPU second it got; ring_full \(.drops.ring_full)"'
	[ -n "$bpid" ] && sed -n 's/^RESULT //p' "$W/uds-$run.txt" |
		jq -r '"  the uds client meanwhile: \(.frames_per_s) frames/s, p50 \(.loaded_p50_us) us, p99 \(.loaded_p99_us) us"'
done
stop
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
