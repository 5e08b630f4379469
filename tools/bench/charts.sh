#!/usr/bin/env bash
# charts.sh - the benchmark's figures as data and PNG charts (gnuplot), sourced by run.sh:
# write_e2e_out, write_latency_out and write_ctl_out read run.sh's work files ($W) and write
# CSV, JSON and PNG into $OUT_DIR. A chart that cannot be drawn is an error (die): run.sh must
# never end "successfully" without the figures it was asked for.

# plot NAME: run gnuplot on $OUT_DIR/NAME.gp (written by the caller); NAME.png must come out
# non-empty
plot() {
	local gp=$OUT_DIR/$1.gp png=$OUT_DIR/$1.png
	rm -f "$png"
	gnuplot "$gp" > "$OUT_DIR/$1.gnuplot.log" 2>&1 ||
		{ cat "$OUT_DIR/$1.gnuplot.log" >&2; die "chart $1: gnuplot failed"; }
	[ -s "$png" ] || die "chart $1: gnuplot wrote no $png"
	echo "chart: $png"
}

gp_head() { # TITLE
	cat <<GP
set terminal pngcairo size 960,600 font "sans,11"
set title "$1" noenhanced
set key inside right top noenhanced
set grid
GP
}

# ---- end-to-end: rows.tsv (see run.sh for its columns), rows-memif.tsv, rows-base.tsv ----
write_e2e_out() { # SUMMARY-JSON
	local csv=$OUT_DIR/e2e-runs.csv
	echo "$1" | jq . > "$OUT_DIR/e2e-summary.json" || die "e2e: bad SUMMARY"
	{
		printf 'run,testpmd_mpps,testpmd_mpps_per_cpu_s,ceiling_mpps,ceiling_mpps_per_cpu_s,'
		printf 'delivered_mpps,delivered_mpps_per_cpu_s,rx_mpps,rx_mpps_per_cpu_s,'
		printf 'cycles_per_pkt,ceiling_cycles_per_pkt,testpmd_cycles_per_pkt,drop_pct,'
		printf 'ceiling_drop_pct,rx_lcore_cpu_share,ceiling_rx_cpu_share,sink_cpu_share,'
		printf 'loadavg,memif_mpps,memif_mpps_per_cpu_s,baseline_mpps,baseline_mpps_per_cpu_s\n'
		awk -F'\t' -v OFS=, -v mf="$W/rows-memif.tsv" -v bf="$W/rows-base.tsv" '{
			m2 = m3 = b5 = b6 = ""
			if ((getline ml < mf) > 0) { split(ml, m, "\t"); m2 = m[2]; m3 = m[3] }
			if ((getline bl < bf) > 0) { split(bl, b, "\t"); b5 = b[5]; b6 = b[6] }
			print NR, $1, $2, $14, $15, $5, $6, $3, $4, $7, $16, $8, $9, $17, $10, $18,
				$11, $13, m2, m3, b5, b6
		}' "$W/rows.tsv"
	} > "$csv"
	echo "data: $csv $OUT_DIR/e2e-summary.json"
	# bars: the medians, wall and per CPU-second, of every side that ran
	jq -r '[["testpmd rxonly", .testpmd_mpps, .testpmd_mpps_per_cpu_s],
		["ceiling", .ceiling_mpps, .ceiling_mpps_per_cpu_s],
		["portmuxd: ring", .delivered_mpps, .delivered_mpps_per_cpu_s],
		["portmuxd: memif", .memif_mpps, .memif_mpps_per_cpu_s]][] |
		select(.[1] != null and .[1] > 0) | "\"\(.[0])\" \(.[1]) \(.[2])"' \
		"$OUT_DIR/e2e-summary.json" > "$OUT_DIR/e2e-mpps.dat"
	if [ -s "$W/rows-base.tsv" ]; then
		printf '"baseline: ring" %s %s\n' "$(cut -f5 "$W/rows-base.tsv" | median)" \
			"$(cut -f6 "$W/rows-base.tsv" | median)" >> "$OUT_DIR/e2e-mpps.dat"
	fi
	{
		gp_head "$(jq -r '"delivered Mpps, 64 B, \(.flows) flows, \(.clients) clients, rules \(.rules): medians of \(.repeats) x \(.duration_s) s (loadavg \(.loadavg))"' "$OUT_DIR/e2e-summary.json")"
		cat <<GP
set output "$OUT_DIR/e2e-mpps.png"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "Mpps"
set yrange [0:*]
set xtics noenhanced
set boxwidth 0.9
plot "$OUT_DIR/e2e-mpps.dat" using 2:xtic(1) title "Mpps per wall second", \
     "" using 3 title "Mpps per second of CPU the RX thread got", \
     "" using (\$0 - 0.15):2:(sprintf("%.2f", \$2)) with labels offset 0,0.7 notitle, \
     "" using (\$0 + 0.15):3:(sprintf("%.2f", \$3)) with labels offset 0,0.7 notitle
GP
	} > "$OUT_DIR/e2e-mpps.gp"
	plot e2e-mpps
}

# ---- latency: lat.txt (LATENCY lines), cdf.jsonl ({channel, load, clients: {id: points}}) ----
write_latency_out() {
	local csv=$OUT_DIR/latency.csv plots=() ch f dat
	{
		echo "channel,load,rate_pps,offered_mpps,delivered_mpps,p50_us,p99_us,max_us,samples,drops,behind,rx_lcore_cpu_pct,sink_cpu_pct,client_cpu_pct"
		sed 's/^LATENCY //' "$W/lat.txt" | jq -r '[.channel, .load, .rate_pps, .offered_mpps,
			.delivered_mpps, .p50_us, .p99_us, .max_us, .samples, .drops, .behind,
			.rx_lcore_cpu_pct, .sink_cpu_pct, (.client_cpu_pct // "")] | @csv'
	} > "$csv"
	cp "$W/cdf.jsonl" "$OUT_DIR/latency-cdf.jsonl"
	echo "data: $csv $OUT_DIR/latency-cdf.jsonl"
	# one curve per channel and load (not the maximum-rate run): the worst client's, i.e.
	# the one whose CDF reaches 0.99 last
	while read -r ch f; do
		dat=$OUT_DIR/cdf-$ch-$f.dat
		jq -r --arg ch "$ch" --argjson f "$f" 'select(.channel == $ch and .load == $f) |
			.clients | to_entries | map(.value) |
			max_by([.[] | select(.[1] >= 0.99)][0][0] // 0) // [] | .[] | "\(.[0] / 1000) \(.[1])"' \
			"$W/cdf.jsonl" > "$dat"
		[ -s "$dat" ] || die "chart latency-cdf: no histogram for $ch at $f"
		plots+=("\"$dat\" using 1:2 with steps lw 2 title \"$ch, $(awk -v f="$f" 'BEGIN {printf "%d", f * 100}') % load\"")
	done < <(jq -r 'select(.load > 0) | "\(.channel) \(.load)"' "$W/cdf.jsonl")
	[ ${#plots[@]} -gt 0 ] || die "chart latency-cdf: nothing to draw"
	{
		gp_head "latency NIC RX -> client (ring: dequeue; memif: copy into its ring), CDF (loadavg $(cut -d' ' -f1 /proc/loadavg) at the end)"
		cat <<GP
set output "$OUT_DIR/latency-cdf.png"
set logscale x
set xlabel "microseconds"
set ylabel "fraction of frames"
set yrange [0:1.02]
set key right bottom
plot $(IFS=,; echo "${plots[*]}")
GP
	} > "$OUT_DIR/latency-cdf.gp"
	plot latency-cdf
}

# ---- control plane: ctl.txt (CTL lines) ----
write_ctl_out() {
	local csv=$OUT_DIR/ctl.csv plots=() b h dat
	{
		echo "build,max_rules,bg_rules,updates_per_s,p99_us,bg_add_per_s,drops_total,delivered_mpps"
		sed 's/^CTL //' "$W/ctl.txt" | jq -r '[.build, .max_rules, .result.bg_rules,
			.result.updates_per_s, .result.p99_us, .result.bg_add_per_s,
			.result.drops_total, .result.delivered_mpps] | @csv'
	} > "$csv"
	echo "data: $csv"
	while read -r b h; do
		dat=$OUT_DIR/ctl-$b-$h.dat
		awk -F, -v b="\"$b\"" -v h="$h" '$1 == b && $3 == h {print $2, $4}' "$csv" > "$dat"
		[ -s "$dat" ] || die "chart ctl-rate: no rows for $b, $h held"
		plots+=("\"$dat\" using 1:2 with linespoints lw 2 pt 7 title \"$b, $h rules held\"")
	done < <(sed 's/^CTL //' "$W/ctl.txt" | jq -r '"\(.build) \(.result.bg_rules)"' | sort -u)
	[ ${#plots[@]} -gt 0 ] || die "chart ctl-rate: nothing to draw"
	{
		gp_head "rule updates per second (listen + release, pipelined) against the table's capacity"
		cat <<GP
set output "$OUT_DIR/ctl-rate.png"
set logscale x 2
set xlabel "clients.max_rules (flow table capacity)"
set ylabel "updates per second"
set yrange [0:*]
plot $(IFS=,; echo "${plots[*]}")
GP
	} > "$OUT_DIR/ctl-rate.gp"
	plot ctl-rate
}
