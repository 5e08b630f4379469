#!/usr/bin/env bash
# test_metrics.sh - figures over time on the testbed. Rates: while the peer streams UDP to a
# ring client, "show port stats all" prints testpmd's "Throughput (since last show)" with a
# nonzero Rx-pps (one-shot calls: since the last call; portmux-ctl watch over one connection:
# per interval, --count bounds it, a terminal gets the screen redrawn), telemetry's
# /portmux/stats has the same rates. The Prometheus endpoint ("metrics" in the config): only
# GET/HEAD /metrics (404, 405 otherwise), the text format that promtool accepts, counters that
# follow the traffic (port, client, drop reason, latency histogram) and do not go back at
# "clear port stats", and a real Prometheus that scrapes it and answers a query for a counter.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

METRICS=127.0.0.1:9273 # the appliance namespace's own loopback
scrape() { in_app curl -sS --max-time 5 "http://$METRICS/metrics"; }
# value TEXT NAME{LABELS}: a sample's value in a scrape (empty when absent)
value() { awk -v k="$2" '$1 == k { print $2 }' <<< "$1"; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null && echo true || echo "false ($1 < $2)"; }
# send N [PORT]: N datagrams from the peer, one at a time; prints the echoes received
send() { tb_udp_ask "$1" "$2" 0.5; }

command -v promtool > /dev/null || die "promtool missing (Debian's prometheus package)"
pmx_hugepages 512
tb_up
tb_config
jq --arg l "$METRICS" '. + {metrics: {listen: $l}}' "$TB_CONF" > "$TB_CONF.new" &&
	mv "$TB_CONF.new" "$TB_CONF"
tb_start_daemon
tb_echo echo 7
assert_match "the daemon says where the endpoint is" "http://$METRICS/metrics" "$(cat "$TB_LOG")"

# ---- rates while traffic runs ----
tb_bg_peer stream "$PMX_PY" "$PMX_ROOT/tests/ns/udp_stream.py" 198.18.0.1 "$TB_DIR/stop" 500 60 7
tb_wait_for "the stream reaches the client" 100 \
	sh -c "[ \$(\"$PMX_BUILD/tools/portmux-ctl/portmux-ctl\" -s $TB_SOCK --json show clients |
		jq '.result.clients[0].rx') -ge 50 ]"
tb_ctl show port stats all > /dev/null # the one-shot calls' last look
sleep 1                                # an interval for the rates to cover
out=$(tb_ctl show port stats all)
echo "$out" | sed -n '/Throughput/,/Tx-pps/p'
assert_match "show port stats all: testpmd's throughput block" "Throughput (since last show)" "$out"
pps=$(sed -n 's/^ *Rx-pps: *\([0-9]*\) .*/\1/p' <<< "$out" | head -1)
assert_eq "one-shot show port stats: Rx-pps > 0 under traffic" true "$(ge "$pps" 1)"
bps=$(sed -n 's/.*Rx-bps: *\([0-9]*\)$/\1/p' <<< "$out" | head -1)
assert_eq "Rx-bps >= Rx-pps x 8 x 42 (Ethernet, IPv4 and UDP headers at least)" true \
	"$(ge "$bps" $((pps * 336)))"

# watch: one connection, --count runs, each a second apart; JSON for the figures
out=$(tb_ctl --json --count 3 watch 1); rc=$?
assert_eq "watch --count 3: exit 0" 0 "$rc"
assert_eq "watch --count 3 --json: three replies" 3 "$(wc -l <<< "$out")"
last=$(tail -1 <<< "$out")
assert_eq "watch: the interval is the watch's (0.5 s .. 5 s)" true \
	"$(jq '.result.ports[0].rates.interval_ns | . > 500000000 and . < 5000000000' <<< "$last")"
assert_eq "watch: rx_pps > 0 under traffic" true "$(jq '.result.ports[0].rates.rx_pps > 0' <<< "$last")"
out=$(tb_ctl -n 2 watch 0.5)
assert_eq "watch without a terminal: one header per run" 2 "$(grep -c '^Every 0.5s: show port stats all' <<< "$out")"
assert_eq "watch without a terminal: no escape sequences" 0 "$(grep -c $'\033' <<< "$out")"
out=$(script -qec "$PMX_BUILD/tools/portmux-ctl/portmux-ctl -s $TB_SOCK -n 2 watch 0.5 show lcores" /dev/null)
assert_eq "watch in a terminal: the screen redrawn at each run" 2 "$(grep -o $'\033\\[H\033\\[2J' <<< "$out" | wc -l)"
assert_match "watch runs the command given" "RX worker 0" "$out"

# telemetry keeps its own last look
tb_telemetry /portmux/stats > /dev/null
sleep 1
t=$(tb_telemetry /portmux/stats)
assert_eq "telemetry /portmux/stats: rates/rx_pps > 0 under traffic" true \
	"$(jq '.ports."0/rates/rx_pps" > 0' <<< "$t")"
touch "$TB_DIR/stop"
tb_wait_for "the stream ends" 100 sh -c "! kill -0 $TB_PID_stream"

# ---- the endpoint ----
assert_match "GET /metrics: 200 with the exposition format's content type" \
	"content-type: text/plain; version=0.0.4" \
	"$(in_app curl -sS -D - -o /dev/null "http://$METRICS/metrics" | tr 'A-Z' 'a-z')"
assert_eq "GET /other: 404" 404 "$(in_app curl -s -o /dev/null -w '%{http_code}' "http://$METRICS/other")"
assert_eq "POST /metrics: 405" 405 \
	"$(in_app curl -s -o /dev/null -w '%{http_code}' -d x "http://$METRICS/metrics")"
m1=$(scrape)
promtool check metrics <<< "$m1" > "$TB_DIR/promtool.log" 2>&1
assert_eq "promtool check metrics: no problem" "0 " "$? $(cat "$TB_DIR/promtool.log")"
assert_eq "every counter is named *_total" "" \
	"$(awk '$1 == "#" && $2 == "TYPE" && $4 == "counter" && $3 !~ /_total$/' <<< "$m1")"

client='client="portmux-echo",client_id="0",port="wan0"'
tb_ctl rule add listen udp any 9999 drop > /dev/null
N=40
assert_eq "$N datagrams echoed" "$N" "$(send $N 7)"
send 5 9999 > /dev/null
m2=$(scrape)
for k in "portmux_port_rx_packets_total{port=\"wan0\"}" "portmux_port_switched_packets_total{port=\"wan0\"}" \
	"portmux_client_delivered_packets_total{$client}" "portmux_client_tx_packets_total{$client}" \
	"portmux_client_latency_seconds_count{$client}" "portmux_client_latency_seconds_bucket{$client,le=\"+Inf\"}"; do
	assert_eq "$k grew by >= $N" true "$(ge "$(value "$m2" "$k")" $(($(value "$m1" "$k") + N)))"
done
k='portmux_drops_total{reason="rule"}'
assert_eq "$k grew by >= 5" true "$(ge "$(value "$m2" "$k")" $(($(value "$m1" "$k") + 5)))"
assert_eq "latency buckets are cumulative, the last <= +Inf" true "$(awk -v c="$client" '
	index($1, "portmux_client_latency_seconds_bucket{" c) == 1 {
		if ($2 < prev) bad = 1; prev = $2 }
	END { print (bad || prev == "" ? "false" : "true") }' <<< "$m2")"
assert_eq "gauges: rules, clients, mbufs" "1 true true" \
	"$(value "$m2" portmux_clients) $(ge "$(value "$m2" portmux_rules)" 2) $(ge "$(value "$m2" portmux_mempool_mbufs_in_use)" 1)"
tb_ctl clear port stats all > /dev/null
m3=$(scrape)
k="portmux_port_rx_packets_total{port=\"wan0\"}"
assert_eq "clear port stats: the exported counters do not go back" true \
	"$(ge "$(value "$m3" "$k")" "$(value "$m2" "$k")")"

# ---- a real Prometheus scrapes the endpoint; one counter queried back ----
cat > "$TB_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: portmux
    static_configs:
      - targets: ['$METRICS']
YML
tb_bg prometheus prometheus --config.file="$TB_DIR/prometheus.yml" \
	--storage.tsdb.path="$TB_DIR/prometheus" --web.listen-address=127.0.0.1:9090
query() { in_app curl -sS --max-time 3 http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }
tb_wait_for "Prometheus scraped portmuxd" 300 \
	sh -c "ip netns exec $TB_APP curl -s http://127.0.0.1:9090/api/v1/query --data-urlencode 'query=up{job=\"portmux\"}' | grep -q '\"1\"\]'" ||
	tail -5 "$TB_DIR/prometheus.log"
got=$(query 'portmux_client_delivered_packets_total{client="portmux-echo"}' | jq -r '.data.result[0].value[1]')
echo "Prometheus: portmux_client_delivered_packets_total{client=\"portmux-echo\"} = $got"
assert_eq "Prometheus answers the client's delivered counter (>= $N)" true "$(ge "$got" $N)"

# ---- an address already taken: portmuxd does not start, and says which key ----
kill -KILL -- "-$TB_PID_prometheus" "-$TB_PID_echo" 2>/dev/null
wait "$TB_PID_prometheus" "$TB_PID_echo" 2>/dev/null
tb_stop_daemon
tb_bg squatter socat TCP-LISTEN:9273,bind=127.0.0.1,reuseaddr,fork SYSTEM:true
tb_wait_for "the squatter listens" 100 in_app sh -c "ss -ltn | grep -q '127.0.0.1:9273 '"
in_app timeout 60 "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_CONF" > "$TB_DIR/taken.log" 2>&1 < /dev/null
rc=$?
rm -rf "/var/run/dpdk/$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_* 2>/dev/null
assert_eq "metrics.listen taken: portmuxd exits 1" 1 "$rc"
assert_match "... naming the key and the reason" \
	"metrics.listen: $METRICS: cannot listen: Address already in use" "$(cat "$TB_DIR/taken.log")"
assert_eq "... and leaves no control socket behind" false "$([ -e "$TB_SOCK" ] && echo true || echo false)"
assert_done
