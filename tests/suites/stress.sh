#!/usr/bin/env bash
# stress.sh - the multicore suite's programs: the flow table under churn (tests/stress/
# stress_flow: a writer adding and deleting rules while two reader lcores classify; 5 s) and
# the rte_flow offload probe on PMDs that need an interface (tests/stress/test_offload with a
# veth for af_packet and a TAP), inside a private network namespace so nothing touches the
# host's interfaces. Neither needs hugepages.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
trap tb_cleanup EXIT

STRESS=$PMX_BUILD/tests/stress
[ -x "$STRESS/stress_flow" ] && [ -x "$STRESS/test_offload" ] || die "build first ($STRESS)"
rc=0

say "flow table: one writer churning, two readers classifying (5 s)"
"$STRESS/stress_flow" -d 5 || rc=1

say "rte_flow offload probe: af_packet and TAP in a private namespace"
ns=pmx-ofl-$$
ip netns add "$ns" && tb_on_exit "ip netns del $ns"
ip -n "$ns" link add ofl0 type veth peer name ofl1 || die "cannot create the veth pair"
ip -n "$ns" link set ofl0 up
ip -n "$ns" link set ofl1 up
ip netns exec "$ns" "$STRESS/test_offload" ofl0 || rc=1
exit $rc
