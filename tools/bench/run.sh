#!/usr/bin/env bash
# run.sh - the portmux benchmark: portmuxd against dpdk-testpmd rxonly and against the bare
# cross-core hand-off (pmx-ceiling) on the same net_pcap trace (wire -> RX lcore -> client rings
# -> one sink process), plus --micro (parse+classify+enqueue
# cycles), --ctl (rule updates per second through the control socket while traffic runs) and
# --latency (NIC RX -> client dequeue at 10/50/90 % of the maximum rate, from a paced source).
#
# Layout on this 2-core machine (say so with every figure):
#   core 1: the RX lcore (portmuxd lcore 1; testpmd's forwarding lcore 1)
#   core 0: portmuxd's management lcore, the sink process (all client sessions), the scripts
# NIC = net_pcap,rx_pcap=TRACE,infinite_rx=1 (frames copied from memory, no kernel); the
# kernel path is net_null (no-rx), so unmatched frames are "delivered to the kernel" for free.
#
# Other processes share both cores, so every figure is given twice: per wall-clock second, and
# per second of CPU the RX lcore thread actually got (from /proc/PID/task/TID/schedstat).
# Each benchmark process runs in a session of its own (setsid): with autogroup scheduling the
# kernel shares a core between sessions, and a session busy on both cores (say, the RX lcore
# on core 1 and the sink on core 0) would get only part of its weight on each.
set -u
source "$(dirname "$0")/../lib.sh"

FLOWS=65536 CLIENTS=4 UNMATCHED=0 DURATION=10 WARMUP=3 REPEATS=3 RULES=listen RING=16384
MAX_RULES=4096 TESTPMD=1 CEILING=1 MODE=e2e SINK_ARGS=() MBUF_POOL=stack BASELINE=
CTL_BG_RULES="0 1000 10000" CTL_MAX_RULES="4096 65536 1048576"
CTL_DURATION=5 CTL_KERNEL=0 CTL_IFADDRS=0 LAT_LOADS="0.1 0.5 0.9" LAT_CHANNELS="ring memif"
NIC_DEVICE= MEMIF=0 MEMIF_ON=0 OUT_DIR= CHARTS=1

usage() {
	cat <<EOF
usage: $0 [options]            end-to-end: portmuxd vs testpmd rxonly and the ceiling
       $0 --micro [ARGS]       microbenchmark: parse+classify+enqueue vs rte_hash_lookup_bulk
       $0 --ctl                control plane: rule updates/s while traffic runs
       $0 --latency            latency NIC RX -> client at 10/50/90 % of the maximum rate
options (end-to-end):
  --flows N        flows in the trace (default $FLOWS; each needs an mbuf: see PERFORMANCE.md)
  --clients N      client sessions in the sink, one UDP port each (default $CLIENTS)
  --unmatched F    fraction of flows no client owns, sent to the kernel path (default $UNMATCHED)
  --rules KIND     listen: one listen rule per client (default); exact: one connect per flow
  --duration S     measured seconds per run (default $DURATION)
  --warmup S       seconds before the measurement (default $WARMUP)
  --repeats N      runs of each side; the medians are printed (default $REPEATS)
  --ring-size N    client ring size (default $RING)
  --max-rules N    flow table capacity (default $MAX_RULES, raised to fit --rules exact)
  --no-testpmd     skip the testpmd baseline
  --no-ceiling     skip the ceiling (pmx-ceiling: rx_burst -> the same rings -> the other
                   core frees; same trace, mempool driver and size, lcores): on by default
  --raw-free       the sink returns frames with rte_mempool_put_bulk (no mbuf read)
  --memif          also the memif channel in every repeat: one memif client (dpdk-testpmd
                   rxonly, net_memif role=client, its own EAL and memory, on core 0) holding
                   the listen rules of all the trace's client ports (needs --rules listen)
  --mbuf-pool NAME portmuxd's mempool driver (config "mbuf_pool", default $MBUF_POOL)
  --baseline DIR   also run portmuxd and pmx-sink of another build (DIR, e.g. of an older
                   commit) in every repeat, with its own defaults: before/after in one run
                   (--ctl too: each table size measured on both builds, same settings)
options (--ctl):
  --ctl-bg "N..."  rules held in the table while measuring (default "$CTL_BG_RULES")
  --ctl-max "N..." flow table capacities to measure (default "$CTL_MAX_RULES")
  --ctl-duration S seconds of add/release per measurement (default $CTL_DURATION)
  --ctl-kernel     kernel path = TAP (in a namespace of its own) instead of net_null: the
                   daemon then also holds a kernel socket per claimed port
  --ctl-ifaddrs    as --ctl-kernel, without "addresses" in the config: the port's addresses
                   are those of its kernel interface (none here), which the daemon follows
options (--latency; also --flows, --clients, --duration, --warmup, --ring-size):
  --loads "F..."   fractions of the maximum rate to measure (default "$LAT_LOADS")
  --channels "C.." the client channels to measure, ring and/or memif (default "$LAT_CHANNELS")
options (all modes but --micro):
  --out DIR        where the figures go as data (CSV, JSON), the text output (MODE.txt) and
                   the PNG charts (gnuplot): e2e-mpps.png, latency-cdf.png, ctl-rate.png
                   (default \$PMX_BUILD/bench-results/MODE-DATE-TIME)
  --no-charts      data and text only (no gnuplot needed)
A part that measures nothing (testpmd, the ceiling, a run without a result) or a chart that
cannot be drawn stops the script with a message and exit status 1.
Binaries come from \$PMX_BUILD (default $PMX_ROOT/build). Run as root.
EOF
}

MICRO_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--flows) FLOWS=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--unmatched) UNMATCHED=$2; shift ;;
	--rules) RULES=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--warmup) WARMUP=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--ring-size) RING=$2; shift ;;
	--max-rules) MAX_RULES=$2; shift ;;
	--no-testpmd) TESTPMD=0 ;;
	--no-ceiling) CEILING=0 ;;
	--memif) MEMIF=1 ;;
	--raw-free) SINK_ARGS+=(-r) ;;
	--mbuf-pool) MBUF_POOL=$2; shift ;;
	--baseline) BASELINE=$(realpath "$2"); shift ;;
	--micro) MODE=micro; shift; MICRO_ARGS=("$@"); break ;;
	--ctl) MODE=ctl ;;
	--latency) MODE=latency ;;
	--loads) LAT_LOADS=$2; shift ;;
	--channels) LAT_CHANNELS=$2; shift ;;
	--ctl-bg) CTL_BG_RULES=$2; shift ;;
	--ctl-max) CTL_MAX_RULES=$2; shift ;;
	--ctl-duration) CTL_DURATION=$2; shift ;;
	--ctl-kernel) CTL_KERNEL=1 ;;
	--out) OUT_DIR=$2; shift ;;
	--no-charts) CHARTS=0 ;;
	--ctl-ifaddrs) CTL_KERNEL=1 CTL_IFADDRS=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || die "run as root (hugepages)"
case $RULES in listen|exact) ;; *) die "--rules must be listen or exact" ;; esac
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 30 ] ||
	die "--duration must be 1..30 (runs stay under 60 s)"
[ "$REPEATS" -ge 1 ] || die "--repeats must be >= 1"
[ "$MEMIF" -eq 0 ] || [ "$RULES" = listen ] || die "--memif needs --rules listen"

SINK=$PMX_BUILD/tools/bench/pmx-sink
CEIL=$PMX_BUILD/tools/bench/pmx-ceiling
CTL_RATE=$PMX_BUILD/tools/bench/pmx-ctl-rate
MICRO=$PMX_BUILD/tests/bench/pmx-microbench
DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
trap tb_cleanup EXIT
source "$PMX_ROOT/tools/bench/charts.sh"
if [ "$MODE" != micro ]; then
	[ "$CHARTS" -eq 0 ] || command -v gnuplot > /dev/null ||
		die "gnuplot missing (Debian: gnuplot-nox, in PMX_PKGS): install it or pass --no-charts"
	OUT_DIR=${OUT_DIR:-$PMX_BUILD/bench-results/$MODE-$(date +%Y%m%d-%H%M%S)}
	mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
	OUT_DIR=$(realpath "$OUT_DIR")
	# the text output too, as it is printed (and the errors, which stay on stderr)
	: > "$OUT_DIR/$MODE.txt"
	exec > >(tee -a "$OUT_DIR/$MODE.txt") 2> >(tee -a "$OUT_DIR/$MODE.txt" >&2)
	[ "$CHARTS" -eq 1 ] || plot() { echo "chart $1: not drawn (--no-charts)"; }
fi
W=$(mktemp -d /tmp/portmux-bench.XXXXXX)
tb_on_exit "rm -rf $W"
ID=$$

machine_line() {
	printf 'machine: %s, %s CPUs, TSC %s MHz; loadavg now: %s\n' \
		"$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" \
		"$(awk '/^cpu MHz/ {print $4; exit}' /proc/cpuinfo)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---- the microbenchmark ----
if [ "$MODE" = micro ]; then
	[ -x "$MICRO" ] || die "$MICRO missing: build with meson/ninja first"
	pmx_hugepages 1024
	machine_line
	"$MICRO" "${MICRO_ARGS[@]}"
	exit $? # the trap restores what pmx_hugepages changed
fi

# ---- helpers for both sides ----
# cpu_ns PID LCORE: CPU time (ns) of the process's EAL thread "rte-worker-LCORE".
cpu_ns() {
	local t
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = "rte-worker-$2" ]; then
			cut -d' ' -f1 "$t/schedstat"
			return 0
		fi
	done
	echo 0
}

# wait_pid PID SECONDS: wait for PID to exit by itself (bounded); then stop it.
wait_pid() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_pid "$pid"
}

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# Hugepage memory is shared with other users of the machine: check before asking for it.
need_mbufs() {
	local mbufs=$1 free_mb
	free_mb=$(( $(awk '/^HugePages_Free/ {print $2}' /proc/meminfo) * 2 ))
	# ~2.4 KB per mbuf (2176 B buffer + headers) plus ~64 MB for tables and rings
	if [ $((mbufs * 24 / 10240 + 64)) -gt "$free_mb" ]; then
		die "need ~$((mbufs * 24 / 10240 + 64)) MB of hugepages for $mbufs mbufs," \
			"$free_mb MB free"
	fi
}

# ---- the trace ----
TRACE=$W/trace.pcap
FLOWLIST=$W/flows.txt
trace_packets=$FLOWS
[ "$FLOWS" -lt 1024 ] && trace_packets=1024 # small traces repeat their flows
pmx_hugepages 1024 # 2 GiB: the trace alone takes ~160 MB of mbufs at 64K flows
say "trace: $FLOWS flows, $CLIENTS clients, unmatched $UNMATCHED"
"$PMX_PY" "$PMX_ROOT/tools/bench/gen_trace.py" -o "$TRACE" -f "$FLOWS" -c "$CLIENTS" \
	-u "$UNMATCHED" -p "$trace_packets" \
	$([ "$RULES" = exact ] && echo --flows-out "$FLOWLIST") ||
	die "gen_trace.py failed"
# mbufs: the trace itself (net_pcap keeps it in mbufs), full client rings, descriptors, caches
MBUFS=$((trace_packets + CLIENTS * RING + 16384))
if [ "$RULES" = exact ] && [ "$MAX_RULES" -lt $((FLOWS * 2)) ]; then
	MAX_RULES=$((FLOWS * 2))
	[ "$MAX_RULES" -gt 1048576 ] && MAX_RULES=1048576
fi

# ---- one testpmd run: writes "rx_packets wall_s cpu_ns" to $W/testpmd-N.txt ----
# tp_cmd CMD WANT: send a command to testpmd, then wait (bounded) until its log holds WANT
# "RX-packets:" lines, i.e. the command was executed (testpmd reads its FIFO when it can).
tp_cmd() {
	local i
	echo "$1" >&7
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c 'RX-packets:' "$TP_LOG")" -ge "$2" ] && return 0
		sleep 0.02
	done
	return 1
}

# testpmd_prompt PID: wait (bounded, 30 s) until testpmd PID prints its prompt in $TP_LOG, or
# ends (the caller's next tp_cmd then finds no stats and says so)
testpmd_prompt() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q 'testpmd>' "$TP_LOG" && return 0
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
}

tp_fail() {
	tail -20 "$TP_LOG" >&2
	die "testpmd run $1: no stats"
}

testpmd_run() {
	local r=$1 fifo=$W/testpmd.in pid rx0 rx1 c0 c1 t0 t1 i
	TP_LOG=$W/testpmd-$1.log
	need_mbufs $((trace_packets + 8192))
	mkfifo "$fifo"
	# line-buffered stdout, so each command's output is in the log when it is done
	setsid stdbuf -oL dpdk-testpmd --no-pci --in-memory -l 0-1 --log-level=lib.eal:warning \
		--vdev "net_pcap0,rx_pcap=$TRACE,infinite_rx=1" -- -i --forward-mode=rxonly \
		--total-num-mbufs=$((trace_packets + 8192)) < "$fifo" > "$TP_LOG" 2>&1 &
	pid=$!
	tb_on_exit "kill -KILL $pid"
	exec 7> "$fifo"
	testpmd_prompt "$pid" # once the trace is loaded (seconds on a busy machine)
	echo start >&7
	sleep "$WARMUP"
	tp_cmd "show port stats all" 1 || tp_fail "$r"
	c0=$(cpu_ns "$pid" 1)
	t0=$(date +%s.%N)
	sleep "$DURATION"
	tp_cmd "show port stats all" 2 || tp_fail "$r"
	c1=$(cpu_ns "$pid" 1)
	t1=$(date +%s.%N)
	tp_cmd stop 3 # prints the forward statistics: the whole run's total
	echo quit >&7
	exec 7>&-
	wait_pid "$pid" 10
	rm -f "$fifo"
	rx0=$(awk '/RX-packets:/ {n++; if (n == 1) print $2}' "$TP_LOG")
	rx1=$(awk '/RX-packets:/ {n++; if (n == 2) print $2}' "$TP_LOG")
	printf '  totals         : testpmd %s frames\n' \
		"$(awk '/RX-packets:/ {n++; if (n == 3) print $2}' "$TP_LOG")" > "$W/totals-$r.txt"
	echo "$((rx1 - rx0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')" \
		"$((c1 - c0))" > "$W/testpmd-$r.txt"
}

# ---- one ceiling run: leaves pmx-ceiling's RESULT JSON in $W/result-cN.json ----
# The bare hand-off with portmuxd's settings: the same NIC and trace, EAL -l 0-1 (RX on lcore
# 1 = core 1, the consumer on lcore 0 = core 0), $CLIENTS SP/SC rings of $RING, $MBUFS mbufs
# from the same mempool driver (portmuxd's default, stack, when --mbuf-pool is not given).
ceiling_run() {
	local r=$1 log=$W/ceiling-$1.log pid
	need_mbufs "$MBUFS"
	setsid "$CEIL" -n "$CLIENTS" -s "$RING" -m "$MBUFS" -p "${MBUF_POOL:-stack}" \
		-w "$WARMUP" -d "$DURATION" -- --no-pci --in-memory -l 0-1 \
		--log-level=lib.eal:warning --vdev "net_pcap0,rx_pcap=$TRACE,infinite_rx=1" \
		> "$log" 2>&1 < /dev/null &
	pid=$!
	tb_on_exit "kill -KILL $pid"
	wait_pid "$pid" $((WARMUP + DURATION + 45))
	grep '^RESULT ' "$log" | sed 's/^RESULT //' > "$W/result-c$r.json"
	[ -s "$W/result-c$r.json" ] && jq -e '.rx > 0' "$W/result-c$r.json" > /dev/null 2>&1 || {
		tail -20 "$log" >&2
		die "ceiling run $r: no result, or nothing received (see above)"
	}
	sed -n 's/^pmx-ceiling: total rx \([0-9]*\), delivered \([0-9]*\).*/  totals         : ceiling \2 frames (rx \1)/p' \
		"$log" >> "$W/totals-$r.txt"
}

# ---- portmuxd config and daemon ----
# The kernel path: net_null by default (unmatched frames cost nothing); with --ctl-kernel a TAP
# interface in a namespace of this script's own, as in production (the daemon then holds a
# kernel socket for every port a client claims, and checks the kernel's ports in /proc/net).
EXCEPTION='{ "type": "device", "device": "net_null_k0,no-rx=1", "addresses": ["198.18.0.1"] }'
NETNS_EXEC=()
use_tap_kernel() {
	local ns=pmxbench-$ID
	ip netns add "$ns" || die "cannot create namespace $ns"
	tb_on_exit "ip netns del $ns"
	ip -n "$ns" link set lo up
	NETNS_EXEC=(ip netns exec "$ns")
	EXCEPTION='{ "type": "tap", "iface": "pmxb0", "addresses": ["198.18.0.1"] }'
	# the port's addresses are then its kernel interface's, read by the daemon
	[ "$CTL_IFADDRS" -eq 1 ] && EXCEPTION='{ "type": "tap", "iface": "pmxb0" }'
}

write_config() { # FILE SOCKET PREFIX MAX_RULES
	cat > "$1" <<JSON
{
  "eal": ["-l", "0-1", "--file-prefix", "$3", "--no-pci", "--log-level", "lib.eal:warning"],
  "ports": [
    { "name": "wan0", "device": "${NIC_DEVICE:-net_pcap0,rx_pcap=$TRACE,infinite_rx=1}",
      "exception": $EXCEPTION }
  ],
  "kernel": { "policy": "pass" },
  "control": { "socket": "$2", "mode": "0660", "group": null },
  "clients": { "max": 16, "ring_size": $RING, "max_rules": $4,
               "rule_quota": $4$([ "$MEMIF_ON" -eq 1 ] && printf ', "memif": true') },
  "mbufs": $MBUFS$([ -n "$MBUF_POOL" ] && printf ',\n  "mbuf_pool": "%s"' "$MBUF_POOL")
}
JSON
}

# start_daemon TAG MAX_RULES: sets DPID, SOCK, PREFIX
start_daemon() {
	local tag=$1 i
	PREFIX=pmxbench$ID$tag
	SOCK=$W/pmx-$tag.sock
	need_mbufs "$MBUFS"
	write_config "$W/pmx-$tag.json" "$SOCK" "$PREFIX" "$2"
	: > "$W/portmuxd-$tag.log"
	# setsid and ip netns exec exec the daemon: $! is its PID
	setsid "${NETNS_EXEC[@]}" "$DAEMON" -c "$W/pmx-$tag.json" > "$W/portmuxd-$tag.log" 2>&1 \
		< /dev/null &
	DPID=$!
	tb_on_exit "stop_pid $DPID; rm -rf /var/run/dpdk/$PREFIX /dev/hugepages/${PREFIX}map_*"
	for ((i = 0; i < 300; i++)); do
		grep -q '^ready' "$W/portmuxd-$tag.log" && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/portmuxd-$tag.log" >&2
	die "portmuxd did not become ready"
}

stop_daemon() {
	stop_pid "$DPID"
	rm -rf "/var/run/dpdk/$PREFIX" /dev/hugepages/"${PREFIX}"map_* 2>/dev/null
}

# ---- one portmuxd run: leaves the sink's RESULT JSON in $W/result-N.json ----
# sink_run TAG LOG SINK-ARGS...: the sink on core 0 against the running daemon for warm-up and
# duration, then the daemon stopped; leaves the sink's RESULT JSON in $W/result-TAG.json
sink_run() {
	local tag=$1 log=$2 spid
	shift 2
	# setsid and taskset exec the sink: $! is the sink's PID
	setsid taskset -c 0 "$SINK" -s "$SOCK" -n "$CLIENTS" -w "$WARMUP" -d "$DURATION" -q "$@" \
		> "$log" 2>&1 &
	spid=$!
	tb_on_exit "kill -KILL $spid"
	wait_pid "$spid" $((WARMUP + DURATION + 45))
	[ -z "${BEFORE_STOP:-}" ] || $BEFORE_STOP # e.g. a memif client, before its server goes
	stop_daemon
	grep '^RESULT ' "$log" | sed 's/^RESULT //' > "$W/result-$tag.json"
	[ -s "$W/result-$tag.json" ] || { tail -20 "$log" >&2; die "run $tag: no result"; }
}

switch_run() {
	local r=$1 log=$W/sink-$1.log
	start_daemon "s$r" "$MAX_RULES"
	sink_run "$r" "$log" "${SINK_ARGS[@]}" $([ "$RULES" = exact ] && echo -f "$FLOWLIST")
	grep 'exact rules added' "$log" || true
	# the whole run, warm-up included
	sed -n 's/^pmx-sink: total/  totals         : sink/p' "$log" >> "$W/totals-$r.txt"
}

# ---- the memif channel: a session holding hello {channel: memif} and the listen rules, and
# dpdk-testpmd as the memif client (rxonly), both on core 0 ----
# ctl_stats: the daemon's "stats" result (one request over the control socket)
ctl_stats() {
	printf '%s\n' '{"cmd":"stats","id":1}' | socat -t 5 - "UNIX-CONNECT:$SOCK" | jq -c .result
}

# memif_session TAG: sets MIF_SOCK MIF_ID MIF_SECRET MIF_CLIENT; the session lives until the
# daemon stops (pmx_session.py exits when the daemon closes the connection)
memif_session() {
	local tag=$1 reqs=('{"cmd":"hello","name":"bench-memif","channel":"memif"}') k pid i
	for ((k = 0; k < CLIENTS; k++)); do
		reqs+=("{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":$((10000 + k))}")
	done
	: > "$W/session-$tag.log"
	setsid taskset -c 0 python3 "$PMX_ROOT/tests/tools/pmx_session.py" "$SOCK" "${reqs[@]}" \
		> "$W/session-$tag.log" 2>&1 < /dev/null &
	pid=$!
	tb_on_exit "kill -KILL $pid"
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l < "$W/session-$tag.log")" -gt "$CLIENTS" ] && break
		sleep 0.1
	done
	[ "$(jq -s '[.[] | .ok] | all' "$W/session-$tag.log" 2> /dev/null)" = true ] &&
		[ "$(wc -l < "$W/session-$tag.log")" -gt "$CLIENTS" ] ||
		{ cat "$W/session-$tag.log" >&2; die "memif session $tag: hello or listen failed"; }
	MIF_SOCK=$(head -1 "$W/session-$tag.log" | jq -r .result.memif.socket)
	MIF_ID=$(head -1 "$W/session-$tag.log" | jq -r .result.memif.id)
	MIF_SECRET=$(head -1 "$W/session-$tag.log" | jq -r .result.memif.secret)
	MIF_CLIENT=$(head -1 "$W/session-$tag.log" | jq -r .result.client_id)
	MIF_SESSION_PID=$pid
}

# memif_client TAG: dpdk-testpmd rxonly on the memif interface, both its lcores on core 0,
# driven through a FIFO (fd 7) as in testpmd_run; sets TP_LOG and MIF_TP_PID
memif_client() {
	local tag=$1 fifo=$W/memif-$1.in i
	TP_LOG=$W/memif-tp-$tag.log
	mkfifo "$fifo"
	setsid stdbuf -oL dpdk-testpmd --no-pci --in-memory --lcores '0@0,1@0' \
		--log-level=lib.eal:warning --vdev \
		"net_memif0,role=client,id=$MIF_ID,socket=$MIF_SOCK,socket-abstract=no,secret=$MIF_SECRET" \
		-- -i --forward-mode=rxonly --total-num-mbufs=16384 < "$fifo" > "$TP_LOG" 2>&1 &
	MIF_TP_PID=$!
	tb_on_exit "kill -KILL $MIF_TP_PID"
	exec 7> "$fifo"
	testpmd_prompt "$MIF_TP_PID"
	echo start >&7
	rm -f "$fifo" # testpmd holds it open
}

# memif_client_stop: the memif client's CPU time (LAT_K1, LAT_T1), then quit it (before the
# daemon, its memif server, stops)
memif_client_stop() {
	LAT_K1=$(cpu_ns "$MIF_TP_PID" 1) LAT_T1=$(date +%s.%N)
	echo quit >&7
	exec 7>&-
	wait_pid "$MIF_TP_PID" 10
}

# memif_run N: leaves "rx delivered window_s rx_cpu_ns drops client_cpu_ns" (the window) in
# $W/memif-N.txt: rx = the port's frames, delivered = the memif client's RX-packets
memif_run() {
	local r=$1 st0 st1 d0 d1 c0 c1 k0 k1 t0 t1 sp
	MEMIF_ON=1
	start_daemon "m$r" "$MAX_RULES"
	MEMIF_ON=0
	memif_session "m$r"
	memif_client "m$r"
	sleep "$WARMUP"
	tp_cmd "show port stats all" 1 || tp_fail "memif $r"
	st0=$(ctl_stats) c0=$(cpu_ns "$DPID" 1) k0=$(cpu_ns "$MIF_TP_PID" 1) t0=$(date +%s.%N)
	sleep "$DURATION"
	tp_cmd "show port stats all" 2 || tp_fail "memif $r"
	st1=$(ctl_stats) c1=$(cpu_ns "$DPID" 1) k1=$(cpu_ns "$MIF_TP_PID" 1) t1=$(date +%s.%N)
	tp_cmd stop 3
	echo quit >&7
	exec 7>&-
	wait_pid "$MIF_TP_PID" 10
	stop_daemon
	wait_pid "$MIF_SESSION_PID" 5
	d0=$(awk '/RX-packets:/ {n++; if (n == 1) print $2}' "$TP_LOG")
	d1=$(awk '/RX-packets:/ {n++; if (n == 2) print $2}' "$TP_LOG")
	[ -n "$st0" ] && [ -n "$st1" ] && [ -n "$d0" ] && [ -n "$d1" ] ||
		{ tail -20 "$TP_LOG" >&2; die "memif run $r: no stats"; }
	printf '  totals         : memif client %s frames\n' \
		"$(awk '/RX-packets:/ {n++; if (n == 3) print $2}' "$TP_LOG")" >> "$W/totals-$r.txt"
	sp=$(jq -n --argjson a "$st0" --argjson b "$st1" \
		'($b.drops | to_entries | map(.value) | add) - ($a.drops | to_entries | map(.value) | add)')
	echo "$(( $(jq '.ports[0].rx' <<< "$st1") - $(jq '.ports[0].rx' <<< "$st0") ))" \
		"$((d1 - d0))" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')" \
		"$((c1 - c0))" "$sp" "$((k1 - k0))" > "$W/memif-$r.txt"
}

# median: of the numbers on stdin, one a line
median() {
	sort -g | awk '{v[NR] = $1}
		END {
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# ctl_measure BUILD MAX: the daemon of $DAEMON with a table of MAX rules and the sink receiving,
# then pmx-ctl-rate for each background rule count; one row (and one CTL line) each
ctl_measure() {
	local build=$1 max=$2 bg line spid
	start_daemon "c$build$max" "$max"
	setsid taskset -c 0 "$SINK" -s "$SOCK" -n "$CLIENTS" -w 0 -d 0 -q \
		> "$W/sink-c$build$max.log" 2>&1 &
	spid=$!
	tb_on_exit "kill -KILL $spid"
	tb_wait_for "sink ready" 100 grep -q ready "$W/sink-c$build$max.log" ||
		{ cat "$W/sink-c$build$max.log"; die "sink did not attach"; }
	for bg in $CTL_BG_RULES; do
		[ "$bg" -lt "$max" ] || continue
		timeout 60 setsid taskset -c 0 "$CTL_RATE" -s "$SOCK" -b "$bg" -d "$CTL_DURATION" \
			> "$W/ctl-$build-$max-$bg.log" 2>&1 ||
			{ cat "$W/ctl-$build-$max-$bg.log"; die "pmx-ctl-rate failed"; }
		line=$(grep '^RESULT ' "$W/ctl-$build-$max-$bg.log" | sed 's/^RESULT //')
		# held: the background rules actually added (the phase is bounded in time)
		printf '%-8s %-10s %-8s %10s %10s %9s %-18s %7s %9s %s\n' "$build" "$max" \
			"$(jq -r '.bg_rules' <<< "$line")" \
			"$(jq -r '.updates_per_s | floor' <<< "$line")" \
			"$(jq -r '.p99_us | floor' <<< "$line")" \
			"$(jq -r '.bg_add_per_s | floor' <<< "$line")" \
			"$(jq -r '[.failed_by_code | to_entries[] | "\(.key)=\(.value)"] |
				if length == 0 then "0" else join(",") end' <<< "$line")" \
			"$(jq -r '.drops_total' <<< "$line")" \
			"$(jq -r '.delivered_mpps * 1000 | floor / 1000' <<< "$line")" \
			"$(cut -d' ' -f1 /proc/loadavg)"
		echo "CTL {\"build\":\"$build\",\"max_rules\":$max,\"bg\":$bg,\"result\":$line}" \
			>> "$W/ctl.txt"
	done
	stop_pid "$spid"
	stop_daemon
}

# ---- the control-plane rate ----
if [ "$MODE" = ctl ]; then
	[ -x "$CTL_RATE" ] || die "$CTL_RATE missing: build with meson/ninja first"
	machine_line
	[ "$CTL_KERNEL" -eq 1 ] && use_tap_kernel
	say "control plane: listen/release through the socket, $CLIENTS clients receiving traffic"
	say "kernel path: $EXCEPTION"
	printf '%-8s %-10s %-8s %10s %10s %9s %-18s %7s %9s %s\n' build max_rules held \
		"updates/s" "p99_us" "bg_add/s" "failed" "drops" "Mpps_dlv" "loadavg"
	for max in $CTL_MAX_RULES; do
		MBUFS=$((trace_packets + CLIENTS * RING + 16384))
		ctl_measure this "$max"
		if [ -n "$BASELINE" ]; then # the other build, same table size, right after
			saved=("$DAEMON" "$SINK")
			DAEMON=$BASELINE/app/portmuxd/portmuxd SINK=$BASELINE/tools/bench/pmx-sink
			ctl_measure baseline "$max"
			DAEMON=${saved[0]} SINK=${saved[1]}
		fi
	done
	[ -n "$BASELINE" ] && echo "  (baseline: $BASELINE, same pmx-ctl-rate and mbuf_pool)"
	[ -s "$W/ctl.txt" ] || die "no control-plane measurement"
	cat "$W/ctl.txt" # one JSON line per measurement, for scripts
	write_ctl_out
	exit 0
fi

# ---- latency: a paced source, the maximum rate, then fractions of it, for each channel ----
# The NIC is net_ring0: pmx-sink (-G) puts the trace's frames on its RX ring at a set rate (pacer.c)
# and drains the clients in the same loop on core 0, so source and sink never preempt each other;
# the RX lcore has core 1. The figures are the clients' histograms (NIC RX burst -> dequeue),
# cleared at the start of each window: p50 the worst client's median, p99 the worst client's.
# memif: one memif client (dpdk-testpmd rxonly, core 0) holds the listen rules of every client
# port; the sink is then only the source (its one session listens on a port with no traffic).
# Its histogram is kept by the switch's lcore: NIC RX burst -> the copy into the memif ring.
# The memif client shares core 0 with the source: its CPU share is printed (client_cpu).
latency_run() { # TAG RATE CHANNEL: leaves the sink's RESULT in $W/result-TAG.json
	local tag=$1 rate=$2 k0 k1 t0 t1
	if [ "$3" = ring ]; then
		start_daemon "$tag" "$MAX_RULES"
		sink_run "$tag" "$W/sink-$tag.log" -G "$TRACE" -R "$rate"
		echo -1 > "$W/ccpu-$tag.txt"
		return
	fi
	MEMIF_ON=1
	start_daemon "$tag" "$MAX_RULES"
	MEMIF_ON=0
	memif_session "$tag"
	memif_client "$tag"
	LAT_K0=$(cpu_ns "$MIF_TP_PID" 1) LAT_T0=$(date +%s.%N)
	BEFORE_STOP=memif_client_stop
	sink_run "$tag" "$W/sink-$tag.log" -G "$TRACE" -R "$rate" -n 1 -p 30000
	BEFORE_STOP=
	wait_pid "$MIF_SESSION_PID" 5
	k0=$LAT_K0 t0=$LAT_T0 k1=$LAT_K1 t1=$LAT_T1
	awk -v k="$((k1 - k0))" -v a="$t0" -v b="$t1" 'BEGIN {printf "%d\n", k / 1e7 / (b - a) + 0.5}' \
		> "$W/ccpu-$tag.txt"
	jq -e --argjson c "$MIF_CLIENT" '.clients | map(select(.client_id == $c)) | length == 1' \
		"$W/result-$tag.json" > /dev/null || die "memif latency run $tag: no memif client in stats"
}
if [ "$MODE" = latency ]; then
	[ -x "$SINK" ] && [ -x "$DAEMON" ] || die "$SINK or $DAEMON missing: build first"
	NIC_DEVICE=net_ring0
	MBUFS=$((CLIENTS * RING + 16384)) # the trace is in the sink's memory, not in mbufs
	machine_line
	say "latency: NIC net_ring0 fed by pmx-sink -G (paced, TSC), $CLIENTS client ports, rings $RING"
	say "layout: RX lcore on core 1; management lcore + source/sink loop (+ the memif client) on core 0"
	cat > "$W/lat.jq" <<'JQ'
def us: . / 1000 * 100 | round / 100;
(.window_s) as $s |
(if $cid < 0 then .clients else .clients | map(select(.client_id == $cid)) end) as $cl |
(if $cid < 0 then .delivered else $cl | map(.rx - (.ring_full // 0)) | add end) as $dl |
[ (.pacer.sent / $s / 1e6 * 1000 | round / 1000), ($dl / $s / 1e6 * 1000 | round / 1000),
  ([$cl[].latency.p50_ns] | max | us), ([$cl[].latency.p99_ns] | max | us),
  ([$cl[].latency.max_ns] | max | us), ([$cl[].latency.samples] | add),
  ((.drops | to_entries | map(.value) | add) + .pacer.ring_full + .pacer.nomem),
  .pacer.behind, ((.lcores | map(.cpu_ns // 0) | add) / 1e9 / $s * 100 | round),
  (.sink_cpu_ns / 1e9 / $s * 100 | round), $ccpu ] | @tsv
JQ
	lat_fields() { # TAG CID
		jq -r --argjson cid "$2" --argjson ccpu "$(cat "$W/ccpu-$1.txt")" -f "$W/lat.jq" \
			"$W/result-$1.json"
	}
	row() { # CHANNEL LABEL TAG CID
		printf '%-7s %-6s %8s %9s %7s %8s %10s %10s %9s %9s %6s %6s %6s %s\n' "$1" "$2" \
			$(lat_fields "$3" "$4" | sed 's/\t-1$/\t-/') "$(cut -d' ' -f1 /proc/loadavg)"
	}
	lat_line() { # CHANNEL LOAD RATE TAG CID: one JSON line ("load" 0 = the maximum-rate run)
		lat_fields "$4" "$5" |
			jq -c --arg ch "$1" --argjson f "$2" --argjson r "$3" -R 'split("\t") | map(tonumber) |
				{channel: $ch, load: $f, rate_pps: $r, offered_mpps: .[0], delivered_mpps: .[1],
				 p50_us: .[2], p99_us: .[3], max_us: .[4], samples: .[5], drops: .[6],
				 behind: .[7], rx_lcore_cpu_pct: .[8], sink_cpu_pct: .[9],
				 client_cpu_pct: (if .[10] < 0 then null else .[10] end)}' |
			sed 's/^/LATENCY /' >> "$W/lat.txt"
		# the CDF of every client that measured something, for the charts
		jq -c --arg ch "$1" --argjson f "$2" --argjson cid "$5" '.hist // {} | to_entries |
			map(select($cid < 0 or (.key | tonumber) == $cid) | select(.value | length > 0)) |
			{channel: $ch, load: $f, clients: from_entries}' "$W/result-$4.json" \
			>> "$W/cdf.jsonl"
	}
	printf '%-7s %-6s %8s %9s %7s %8s %10s %10s %9s %9s %6s %6s %6s %s\n' channel load \
		offered delivered p50_us p99_us max_us samples drops behind rx_cpu sink_cpu \
		cli_cpu loadavg
	for ch in $LAT_CHANNELS; do
		cid=-1
		latency_run "$ch-max" 0 "$ch"
		[ "$ch" = memif ] && cid=$MIF_CLIENT
		row "$ch" "max" "$ch-max" "$cid"
		max_pps=$(lat_fields "$ch-max" "$cid" | awk -F'\t' '{printf "%d", $2 * 1e6}')
		[ "$max_pps" -gt 0 ] || die "$ch: the maximum-rate run delivered nothing (RX lcore CPU" \
			"share $(lat_fields "$ch-max" "$cid" | cut -f9) %: other processes took its core?)"
		lat_line "$ch" 0 0 "$ch-max" "$cid"
		for f in $LAT_LOADS; do
			rate=$(awk -v m="$max_pps" -v f="$f" 'BEGIN {printf "%d", m * f}')
			latency_run "$ch-$f" "$rate" "$ch"
			[ "$ch" = memif ] && cid=$MIF_CLIENT
			row "$ch" "$(awk -v f="$f" 'BEGIN {printf "%d %%", f * 100}')" "$ch-$f" "$cid"
			lat_line "$ch" "$f" "$rate" "$ch-$f" "$cid"
		done
	done
	echo "(offered, delivered: Mpps; p50/p99: the worst client's; max: the largest of all;"
	echo " drops: the switch's and those the NIC ring had no room for; behind: frames the source"
	echo " skipped, descheduled; rx_cpu, sink_cpu, cli_cpu: % of the window the RX lcore, the"
	echo " source/sink loop and the memif client's lcore ran (cli_cpu: over the whole run):"
	echo " below 100, they were preempted. memif: latency up to the copy into its ring)"
	cat "$W/lat.txt" # one JSON line per channel and load, for scripts
	write_latency_out
	exit 0
fi

# ---- end-to-end ----
[ -x "$SINK" ] && [ -x "$DAEMON" ] || die "$SINK or $DAEMON missing: build with meson/ninja first"
[ "$CEILING" -eq 0 ] || [ -x "$CEIL" ] || die "$CEIL missing: build with meson/ninja first"
machine_line
say "layout: RX lcore on core 1; management lcore + sink ($CLIENTS sessions) on core 0"
say "$REPEATS run(s) of ${DURATION} s after ${WARMUP} s warm-up; rules: $RULES; rings $RING"
# per run, one TSV row: testpmd Mpps wall, per CPU-s; portmuxd rx wall, per CPU-s; delivered
# wall, per CPU-s; cycles/pkt portmuxd, testpmd; drop %; RX lcore CPU share; sink CPU share;
# to_kernel Mpps; loadavg; then the ceiling: delivered wall, per CPU-s; cycles/pkt; drop %;
# RX thread CPU share; consumer CPU share. "per CPU-s": per second of CPU the RX thread got.
cat > "$W/common.jq" <<'JQ'
def mpps(n; s): if s > 0 then n / s / 1e6 else 0 end;
def cpu_s: (.lcores | map(.cpu_ns // 0) | add) / 1e9;
def drops: .drops | to_entries | map(.value) | add;
def cycles(n; secs; hz): if n > 0 then secs * hz / n else 0 end;
def ccpu: $ceil.rx_cpu_ns / 1e9;
JQ
cat "$W/common.jq" - > "$W/row.jq" <<'JQ'
[ mpps($tprx; $tpw), mpps($tprx; $tpc / 1e9), mpps(.rx; .window_s), mpps(.rx; cpu_s),
  mpps(.delivered; .window_s), mpps(.delivered; cpu_s), cycles(.rx; cpu_s; .tsc_hz),
  cycles($tprx; $tpc / 1e9; .tsc_hz), (if .rx > 0 then 100 * drops / .rx else 0 end),
  cpu_s / .window_s, .sink_cpu_ns / 1e9 / .window_s, mpps(.to_kernel; .window_s),
  ($load | tonumber), mpps($ceil.delivered; $ceil.window_s), mpps($ceil.delivered; ccpu),
  cycles($ceil.rx; ccpu; $ceil.tsc_hz),
  (if $ceil.rx > 0 then 100 * $ceil.drops / $ceil.rx else 0 end),
  ccpu / $ceil.window_s, $ceil.consumer_cpu_ns / 1e9 / $ceil.window_s ] | @tsv
JQ
cat "$W/common.jq" - > "$W/show.jq" <<'JQ'
def f2: . * 100 | round / 100;
def f3: . * 1000 | round / 1000;
def pct: . * 100 | round;
def nonzero: to_entries | map(select(.value > 0) | "\(.key)=\(.value)")
	| if length == 0 then "none" else join(" ") end;
"run \($run) (loadavg \($load)):",
(if $tp == 1 then
	"  testpmd rxonly : \(mpps($tprx; $tpw) | f2) Mpps wall, "
	+ "\(mpps($tprx; $tpc / 1e9) | f2) per CPU-s (\($tpc / 1e9 / $tpw | pct) % CPU), "
	+ "\(cycles($tprx; $tpc / 1e9; .tsc_hz) | round) cycles/pkt"
 else empty end),
(if $ceil.rx > 0 then
	"  ceiling        : delivered \(mpps($ceil.delivered; $ceil.window_s) | f2) Mpps wall, "
	+ "\(mpps($ceil.delivered; ccpu) | f2) per CPU-s (\(ccpu / $ceil.window_s | pct) % CPU), "
	+ "\(cycles($ceil.rx; ccpu; $ceil.tsc_hz) | round) cycles/pkt on the RX thread; drops "
	+ "\(100 * $ceil.drops / $ceil.rx | f3) %; consumer CPU "
	+ "\($ceil.consumer_cpu_ns / 1e9 / $ceil.window_s | pct) %"
 else empty end),
(.lcores[] | "  portmuxd lcore \(.lcore): CPU \((.cpu_ns // 0) / 1e9 | f3) s of \(.loops) loops "
	+ "(\(if .loops > 0 then .busy_loops * 100 / .loops | round else 0 end) % busy), "
	+ "\(if (.rx // 0) > 0 then .busy_cycles / .rx | round else 0 end) busy cycles/frame "
	+ "(daemon's own TSC count), drops \(.drops | to_entries | map(.value) | add)"),
"  portmuxd port  : rx \(mpps(.rx; .window_s) | f2) Mpps wall, \(mpps(.rx; cpu_s) | f2) per "
	+ "CPU-s (\(cpu_s / .window_s | pct) % CPU), \(cycles(.rx; cpu_s; .tsc_hz) | round) "
	+ "cycles/pkt; to_kernel \(mpps(.to_kernel; .window_s) | f2) Mpps",
"  delivered      : \(mpps(.delivered; .window_s) | f2) Mpps wall, "
	+ "\(mpps(.delivered; cpu_s) | f2) per CPU-s (sink count; daemon enqueued "
	+ "\(.to_clients)); per client \(.delivered_per_client | map(tostring) | join(" ")); "
	+ "sink CPU \(.sink_cpu_ns / 1e9 / .window_s | pct) %",
"  drops          : \(if .rx > 0 then 100 * drops / .rx else 0 end | f3) % of rx: "
	+ "\(.drops | nonzero)",
(if cpu_s / .window_s < 0.5 then "  WARNING: the RX lcore got \(cpu_s / .window_s | pct) % of "
	+ "its core (other processes run there): not representative" else empty end)
JQ
: > "$W/rows.tsv"
NO_CEIL='{"rx":0,"delivered":0,"drops":0,"window_s":1,"rx_cpu_ns":0,"consumer_cpu_ns":0,"tsc_hz":1}'
for ((r = 1; r <= REPEATS; r++)); do
	tp_rx=0 tp_wall=1 tp_cpu=0
	ceil=$NO_CEIL
	if [ "$TESTPMD" -eq 1 ]; then
		testpmd_run "$r"
		read -r tp_rx tp_wall tp_cpu < "$W/testpmd-$r.txt"
	fi
	if [ "$CEILING" -eq 1 ]; then
		ceiling_run "$r"
		ceil=$(cat "$W/result-c$r.json")
	fi
	switch_run "$r"
	load=$(cut -d' ' -f1 /proc/loadavg)
	jq -r --argjson tprx "$tp_rx" --argjson tpw "$tp_wall" --argjson tpc "$tp_cpu" \
		--argjson ceil "$ceil" --arg load "$load" -f "$W/row.jq" "$W/result-$r.json" >> "$W/rows.tsv"
	jq -r --argjson tprx "$tp_rx" --argjson tpw "$tp_wall" --argjson tpc "$tp_cpu" \
		--argjson ceil "$ceil" --arg load "$load" --arg run "$r" --argjson tp "$TESTPMD" -f "$W/show.jq" \
		"$W/result-$r.json"
	cat "$W/totals-$r.txt"
	if [ -n "$BASELINE" ]; then # the other build, same trace, right after
		saved=("$DAEMON" "$SINK" "$MBUF_POOL")
		DAEMON=$BASELINE/app/portmuxd/portmuxd SINK=$BASELINE/tools/bench/pmx-sink MBUF_POOL=
		switch_run "b$r"
		DAEMON=${saved[0]} SINK=${saved[1]} MBUF_POOL=${saved[2]}
		load=$(cut -d' ' -f1 /proc/loadavg)
		jq -r --argjson tprx "$tp_rx" --argjson tpw "$tp_wall" --argjson tpc "$tp_cpu" \
			--argjson ceil "$ceil" --arg load "$load" -f "$W/row.jq" "$W/result-b$r.json" >> "$W/rows-base.tsv"
		echo "  baseline ($BASELINE):"
		jq -r --argjson tprx "$tp_rx" --argjson tpw "$tp_wall" --argjson tpc "$tp_cpu" \
			--argjson ceil "$NO_CEIL" --arg load "$load" --arg run "b$r" --argjson tp 0 -f "$W/show.jq" \
			"$W/result-b$r.json" | sed 1d
	fi
	if [ "$MEMIF" -eq 1 ]; then
		memif_run "$r"
		# rx delivered window rx_cpu_ns drops client_cpu_ns; the ceiling of this repeat
		awk -v hz="$(jq -r .tsc_hz "$W/result-$r.json")" \
			-v cw="$(sed -n "${r}p" "$W/rows.tsv" | cut -f14)" \
			-v cc="$(sed -n "${r}p" "$W/rows.tsv" | cut -f15)" '{
			cpu = $4 / 1e9; w = $3
			dw = $2 / w / 1e6; dc = cpu > 0 ? $2 / cpu / 1e6 : 0
			printf "%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\n", $1 / w / 1e6, dw, dc,
				($1 > 0 ? cpu * hz / $1 : 0), ($1 > 0 ? 100 * $5 / $1 : 0), cpu / w,
				$6 / 1e9 / w, (cw > 0 ? dw / cw : 0), (cc > 0 ? dc / cc : 0)
		}' "$W/memif-$r.txt" >> "$W/rows-memif.tsv"
		tail -1 "$W/rows-memif.tsv" | awk -F'\t' '{
			printf "  memif channel  : delivered %.2f Mpps wall, %.2f per CPU-s (RX lcore %d %% CPU), ", $2, $3, 100 * $6 + 0.5
			printf "%d cycles/pkt on the RX lcore (rx %.2f Mpps); drops %.3f %%; client CPU %d %%\n", $4 + 0.5, $1, $5, 100 * $7 + 0.5
		}'
		tail -1 "$W/totals-$r.txt"
	fi
done

col() { cut -f"$1" "$W/rows.tsv" | median; }
echo
say "medians of $REPEATS run(s): $FLOWS flows, $CLIENTS clients, unmatched $UNMATCHED, rules $RULES"
tp_w=$(col 1) tp_c=$(col 2) rx_w=$(col 3) rx_c=$(col 4) dl_w=$(col 5) dl_c=$(col 6)
printf '  testpmd rxonly        %7.2f Mpps wall   %7.2f Mpps per CPU-second   %5.0f cycles/pkt\n' \
	"$tp_w" "$tp_c" "$(col 8)"
cl_w=$(col 14) cl_c=$(col 15)
[ "$CEILING" -eq 1 ] &&
	printf '  ceiling (hand-off)    %7.2f Mpps wall   %7.2f Mpps per CPU-second   %5.0f cycles/pkt, drops %.3f %%\n' \
		"$cl_w" "$cl_c" "$(col 16)" "$(col 17)"
printf '  portmuxd RX lcore 1   %7.2f Mpps wall   %7.2f Mpps per CPU-second   %5.0f cycles/pkt\n' \
	"$rx_w" "$rx_c" "$(col 7)"
printf '  delivered to clients  %7.2f Mpps wall   %7.2f Mpps per CPU-second\n' "$dl_w" "$dl_c"
printf '  to kernel (net_null)  %7.2f Mpps wall\n' "$(col 12)"
printf '  drops                 %7.3f %% of received\n' "$(col 9)"
printf '  RX lcore CPU share    %7.0f %%   sink CPU share %5.0f %%   loadavg %s\n' \
	"$(awk -v v="$(col 10)" 'BEGIN {print 100 * v}')" \
	"$(awk -v v="$(col 11)" 'BEGIN {print 100 * v}')" "$(col 13)"
starved=$(awk -F'\t' '$10 < 0.5' "$W/rows.tsv" | wc -l)
[ "$starved" -gt 0 ] &&
	printf '  WARNING: in %d of %d runs the RX lcore got less than half of its core\n' \
		"$starved" "$REPEATS"
ratio_w=0 ratio_c=0 ratio_rx=0
if [ "$TESTPMD" -eq 1 ]; then
	# the ratio of each run, then the median of the ratios
	ratio_w=$(awk -F'\t' '{print ($1 > 0 ? $5 / $1 : 0)}' "$W/rows.tsv" | median)
	ratio_c=$(awk -F'\t' '{print ($2 > 0 ? $6 / $2 : 0)}' "$W/rows.tsv" | median)
	ratio_rx=$(awk -F'\t' '{print ($2 > 0 ? $4 / $2 : 0)}' "$W/rows.tsv" | median)
	printf '  ratio delivered/testpmd %6.3f wall   %7.3f per CPU-second' "$ratio_w" "$ratio_c"
	printf ' (medians of the runs'"'"' ratios; target >= 0.70)\n'
	printf '  ratio received/testpmd                %7.3f per CPU-second' "$ratio_rx"
	printf ' (what the RX lcore handles, whatever the sink did)\n'
fi
cratio_w=0 cratio_c=0
if [ "$CEILING" -eq 1 ]; then
	cratio_w=$(awk -F'\t' '{print ($14 > 0 ? $5 / $14 : 0)}' "$W/rows.tsv" | median)
	cratio_c=$(awk -F'\t' '{print ($15 > 0 ? $6 / $15 : 0)}' "$W/rows.tsv" | median)
	printf '  ratio delivered/ceiling %6.3f wall   %7.3f per CPU-second' "$cratio_w" "$cratio_c"
	printf ' (medians of the runs'"'"' ratios; target >= 0.85)\n'
	cstarved=$(awk -F'\t' '$18 < 0.5' "$W/rows.tsv" | wc -l)
	[ "$cstarved" -gt 0 ] &&
		printf '  WARNING: in %d of %d runs the ceiling'"'"'s RX thread got less than half of its core\n' \
			"$cstarved" "$REPEATS"
fi
if [ "$MEMIF" -eq 1 ]; then
	mcol() { cut -f"$1" "$W/rows-memif.tsv" | median; }
	printf '  memif: delivered      %7.2f Mpps wall   %7.2f Mpps per CPU-second   %5.0f cycles/pkt, drops %.3f %%\n' \
		"$(mcol 2)" "$(mcol 3)" "$(mcol 4)" "$(mcol 5)"
	[ "$CEILING" -eq 1 ] &&
		printf '  ratio memif/ceiling     %6.3f wall   %7.3f per CPU-second\n' "$(mcol 8)" "$(mcol 9)"
fi
if [ -n "$BASELINE" ]; then
	bcol() { cut -f"$1" "$W/rows-base.tsv" | median; }
	printf '  baseline RX lcore 1   %7.2f Mpps wall   %7.2f Mpps per CPU-second   %5.0f cycles/pkt\n' \
		"$(bcol 3)" "$(bcol 4)" "$(bcol 7)"
	printf '  baseline delivered    %7.2f Mpps wall   %7.2f Mpps per CPU-second, drops %.3f %%\n' \
		"$(bcol 5)" "$(bcol 6)" "$(bcol 9)"
	[ "$TESTPMD" -eq 1 ] && printf '  baseline ratio delivered/testpmd %6.3f wall %7.3f per CPU-second\n' \
		"$(awk -F'\t' '{print ($1 > 0 ? $5 / $1 : 0)}' "$W/rows-base.tsv" | median)" \
		"$(awk -F'\t' '{print ($2 > 0 ? $6 / $2 : 0)}' "$W/rows-base.tsv" | median)"
	[ "$CEILING" -eq 1 ] && printf '  baseline ratio delivered/ceiling %6.3f wall %7.3f per CPU-second\n' \
		"$(awk -F'\t' '{print ($14 > 0 ? $5 / $14 : 0)}' "$W/rows-base.tsv" | median)" \
		"$(awk -F'\t' '{print ($15 > 0 ? $6 / $15 : 0)}' "$W/rows-base.tsv" | median)"
	echo "  (baseline: $BASELINE)"
fi
# one line for scripts (and the data files, the charts)
{
	printf 'SUMMARY {"flows":%s,"clients":%s,"unmatched":%s,"rules":"%s",' \
		"$FLOWS" "$CLIENTS" "$UNMATCHED" "$RULES"
	printf '"repeats":%s,"duration_s":%s,' "$REPEATS" "$DURATION"
	printf '"testpmd_mpps":%s,"testpmd_mpps_per_cpu_s":%s,"rx_mpps":%s,"rx_mpps_per_cpu_s":%s,' \
		"$tp_w" "$tp_c" "$rx_w" "$rx_c"
	printf '"delivered_mpps":%s,"delivered_mpps_per_cpu_s":%s,"cycles_per_pkt":%s,' \
		"$dl_w" "$dl_c" "$(col 7)"
	printf '"testpmd_cycles_per_pkt":%s,"drop_pct":%s,"to_kernel_mpps":%s,"ratio_wall":%s,' \
		"$(col 8)" "$(col 9)" "$(col 12)" "$ratio_w"
	printf '"ratio_per_cpu_s":%s,"ratio_rx_per_cpu_s":%s,"rx_lcore_cpu_share":%s,' \
		"$ratio_c" "$ratio_rx" "$(col 10)"
	printf '"ceiling_mpps":%s,"ceiling_mpps_per_cpu_s":%s,"ceiling_cycles_per_pkt":%s,' \
		"$cl_w" "$cl_c" "$(col 16)"
	printf '"ceiling_drop_pct":%s,"ratio_ceiling_wall":%s,"ratio_ceiling_per_cpu_s":%s,' \
		"$(col 17)" "$cratio_w" "$cratio_c"
	[ "$MEMIF" -eq 1 ] &&
		printf '"memif_mpps":%s,"memif_mpps_per_cpu_s":%s,"memif_cycles_per_pkt":%s,"memif_drop_pct":%s,"ratio_memif_ceiling_wall":%s,"ratio_memif_ceiling_per_cpu_s":%s,' \
			"$(mcol 2)" "$(mcol 3)" "$(mcol 4)" "$(mcol 5)" "$(mcol 8)" "$(mcol 9)"
	printf '"sink_cpu_share":%s,"starved_runs":%s,"loadavg":%s}\n' "$(col 11)" "$starved" "$(col 13)"
} > "$W/summary.txt"
cat "$W/summary.txt"
write_e2e_out "$(sed -n 's/^SUMMARY //p' "$W/summary.txt")"
