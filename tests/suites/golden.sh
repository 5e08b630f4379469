#!/usr/bin/env bash
# golden.sh - the dataplane golden tests: cases.py (scapy) writes each case's input frames and the
# frames expected at every destination; run_golden.py drives a fresh portmuxd per case whose NIC
# and kernel path are TAP devices in a namespace of their own, with capture clients, and
# compares frame by frame. Optional arguments: substrings of case names. PMX_GOLDEN_KEEP=1 keeps
# the captures (expected and actual pcaps per case) for inspection.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
trap tb_cleanup EXIT

for bin in app/portmuxd/portmuxd tests/golden/pmx-capture; do
	[ -x "$PMX_BUILD/$bin" ] || die "$PMX_BUILD/$bin missing: build first (ninja -C $PMX_BUILD)"
done
pmx_hugepages 512

# One namespace of its own. portmuxd's NIC and kernel path are TAP devices in it (gw0: the
# wire the test sends on and captures from; gk0: what "the kernel" got), created per case. No
# kernel stack speaks on them (IPv6 off, no addresses, no ARP replies), so the captures hold only
# what the switch sent. The appliance's addresses sit on lo, as they would on the kernel's
# interface: portmuxd sees kernel sockets bound to them (ports it must not give to clients).
GOLDEN_NS=pmx-golden-$$
GOLDEN_DIR=$(mktemp -d /tmp/portmux-golden.XXXXXX)
if [ "${PMX_GOLDEN_KEEP:-0}" = 1 ]; then
	echo "captures kept in $GOLDEN_DIR"
else
	tb_on_exit "rm -rf $GOLDEN_DIR"
fi
ip netns add "$GOLDEN_NS" && tb_on_exit "ip netns del $GOLDEN_NS" || die "cannot create $GOLDEN_NS"
in_golden() { ip netns exec "$GOLDEN_NS" "$@"; }
in_golden sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.arp_ignore=8 \
	net.ipv4.conf.default.arp_ignore=8
ip -n "$GOLDEN_NS" link set lo up
ip -n "$GOLDEN_NS" addr add 198.18.0.1/32 dev lo
ip -n "$GOLDEN_NS" addr add fd00::1/128 dev lo nodad

say "generating the cases"
"$PMX_PY" "$PMX_ROOT/tests/golden/cases.py" "$GOLDEN_DIR/cases" "$@" > /dev/null ||
	die "cases.py failed"
say "running them"
ip netns exec "$GOLDEN_NS" "$PMX_PY" "$PMX_ROOT/tests/golden/run_golden.py" --build "$PMX_BUILD" \
	--cases "$GOLDEN_DIR/cases" --prefix "pmxg$$c" &
runner=$!
tb_on_exit "kill -TERM $runner; wait $runner"
wait "$runner"
