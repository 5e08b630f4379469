#!/usr/bin/env bash
# test_latency.sh - the latency histograms on the testbed: N datagrams from the wire to a ring
# client (portmux-echo on UDP :7) give its histogram at least N samples with
# 0 < p50 <= p99 <= max, the same in stats, in "show latency" and in rte_telemetry
# (/portmux/latency and /portmux/clients); "clear port stats all" empties it, and traffic after
# the clear fills it again. No figure is asserted: latency on a shared VM is the benchmark's
# business (tools/bench/run.sh --latency).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

# send N: N datagrams to UDP :7 from the peer, one at a time; prints the echoes received
send() {
	in_peer "$PMX_PY" - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
got = 0
for i in range(int(sys.argv[1])):
    s.sendto(b"latency-%d" % i, ("198.18.0.1", 7))
    try:
        s.recv(2048)
        got += 1
    except socket.timeout:
        pass
print(got)
PY
}

# lat: the echo client's latency object from stats
lat() { pmx_req '{"cmd":"stats"}' | jq -c '.result.clients[] | select(.name == "portmux-echo") | .latency'; }

pmx_hugepages 512
tb_up
tb_start_daemon
tb_echo echo 7

l=$(lat)
assert_eq "stats: latency fields of a client" '["max_ns","p50_ns","p99_ns","samples"]' \
	"$(jq -c 'keys' <<< "$l")"

N=50
assert_eq "$N datagrams echoed" "$N" "$(send $N)"
l=$(lat)
echo "latency after $N datagrams: $l"
assert_eq "samples >= $N" true "$(jq ".samples >= $N" <<< "$l")"
assert_eq "0 < p50 <= p99 <= max" true \
	"$(jq '.p50_ns > 0 and .p50_ns <= .p99_ns and .p99_ns <= .max_ns' <<< "$l")"

# the operator's view
out=$(tb_ctl show latency)
echo "$out"
assert_eq "show latency: a row for the client with its figures" 1 \
	"$(grep -cE 'portmux-echo +ring +[0-9]+( +[0-9.]+ [num]s){3}$' <<< "$out")"

# telemetry: the same keys, the same client
t=$(tb_telemetry /portmux/latency)
id=$(pmx_req '{"cmd":"stats"}' | jq -r '.result.clients[] | select(.name == "portmux-echo") | .client_id')
assert_eq "telemetry /portmux/latency: the client's keys" \
	'["client_id","max_ns","name","p50_ns","p99_ns","samples"]' "$(jq -c ".\"$id\" | keys" <<< "$t")"
assert_eq "telemetry /portmux/latency: samples >= $N" true "$(jq ".\"$id\".samples >= $N" <<< "$t")"
assert_eq "telemetry /portmux/clients: latency/p99_ns" true \
	"$(tb_telemetry /portmux/clients | jq ".\"$id\" | has(\"latency/p99_ns\")")"

# clear: empty at once, then filled again by new traffic only
tb_ctl clear port stats all > /dev/null
samples_before=$(jq .samples <<< "$l")
# (ARP/ND/multicast copies from the peer may arrive meanwhile: a few samples, not the $N+)
assert_eq "cleared: at most a few samples (copies of ARP/ND), not the $samples_before before" \
	true "$(lat | jq ".samples < 5")"
assert_eq "5 datagrams echoed after the clear" 5 "$(send 5)"
l=$(lat)
assert_eq "after the clear: 5 samples or a few more (ARP copies), fewer than before" true \
	"$(jq ".samples >= 5 and .samples < $samples_before" <<< "$l")"
assert_done
