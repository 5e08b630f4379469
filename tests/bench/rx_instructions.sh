#!/bin/bash
# rx_instructions.sh - instructions per frame of the RX lcore, stage by stage (callgrind over
# pmx-rxbench): the ceiling's loop and portmux's, for each build directory given, so that a
# before/after needs no quiet machine. Usage: tests/bench/rx_instructions.sh [-k KINDS] [BUILD...]
# KINDS: "exact listen any" by default; BUILD: build directories (default: build).
set -u
kinds="exact listen any"
if [ "${1:-}" = "-k" ]; then
	kinds=$2
	shift 2
fi
[ $# -gt 0 ] || set -- build
command -v valgrind >/dev/null || { echo "rx_instructions: valgrind is not installed" >&2; exit 1; }
frames=65536 # per pass; with the untimed warm-up pass, each mode handles 2 x frames
tmp=$(mktemp -d /tmp/pmx-rxi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# inclusive instructions of the functions named, per frame, from a callgrind output file
per_frame() {
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | sed '/Auto-annotated/,$d' |
		awk -v n=$((2 * frames)) '
		/^ *[0-9,]+ / {
			ir = $1; gsub(",", "", ir); fn = $0; sub(/^[^:]*:/, "", fn); sub(/ .*/, "", fn)
			sub(/\..*/, "", fn)
			if (!(fn in cost)) cost[fn] = ir / n
		}
		END {
			loop = cost["rx_loop_once"]; nic = cost["pmx_nic_rx_poll"]
			cls = cost["pmx_flow_table_classify_bulk"]; dlv = cost["pmx_deliver"]
			tx = cost["pmx_client_tx_poll"]; rx = cost["rte_eth_rx_burst"]
			printf "%8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", loop, rx, cls, dlv, tx,
			       nic - cls - dlv
		}'
}

# loop: the whole RX lcore loop; then portmux's parts: classify (flow table), deliver (marks,
# enqueue, counters), client_tx (the clients' homes drained, TX rings polled), and the rest of
# pmx_nic_rx_poll (rx_burst, stamp, parse, dispatch by class, grouping by destination)
printf "%-24s %-7s %-8s %8s %8s %8s %9s %8s\n" build rules mode loop classify deliver \
	client_tx nic_rest
for b in "$@"; do
	bin=$b/tests/bench/pmx-rxbench
	[ -x "$bin" ] || { echo "rx_instructions: no $bin (build first)" >&2; exit 1; }
	for k in $kinds; do
		for m in ceiling portmux; do
			out=$tmp/cg.$k.$m
			valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" -k "$k" -m "$m" \
				-n 1 -p $frames -- --no-huge -m 1200 >"$tmp/log" 2>&1 ||
				{ cat "$tmp/log" >&2; exit 1; }
			read -r loop rx cls dlv tx rest < <(per_frame "$out")
			if [ "$m" = ceiling ]; then
				printf "%-24s %-7s %-8s %8.1f\n" "$b" "$k" "$m" "$loop"
			else
				printf "%-24s %-7s %-8s %8.1f %8.1f %8.1f %9.1f %8.1f\n" "$b" "$k" \
					"$m" "$loop" "$cls" "$dlv" "$tx" "$rest"
			fi
		done
	done
done
