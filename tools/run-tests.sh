#!/usr/bin/env bash
# run-tests.sh - the README's test command: installs what is missing, builds, and runs every
# suite (CUnit unit tests, extra suites under tests/suites/, namespace tests under tests/ns/).
# Prints one line per suite and ends with "N passed, M failed". Run as root.
set -u
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, hugepages)"

ONLY=${1:-}   # optional: a substring of the suite names to run
RESULTS=$(mktemp -d /tmp/portmux-results.XXXXXX)
passed=0 failed=0 failed_names=()

# Leftovers: what a suite started or created and did not remove. Each suite runs with its own
# PMX_SUITE_TAG in its environment (inherited by everything it starts, in any namespace or
# session); tools/lib.sh notes the namespaces and testbed directories it creates in
# $PMX_TB_REGISTRY, and in $PMX_LEFTOVERS the processes it found still running in a namespace
# it deleted (and killed).
LEFTOVERS=$RESULTS/leftovers.txt
: > "$LEFTOVERS"

# suite_processes TAG: "PID ARGS" of every live process whose environment holds PMX_SUITE_TAG=TAG
suite_processes() {
	local env pid
	for env in /proc/[0-9]*/environ; do
		pid=${env#/proc/}
		pid=${pid%/environ}
		grep -qzx "PMX_SUITE_TAG=$1" "$env" 2>/dev/null || continue
		[ -e "/proc/$pid/exe" ] || continue # a zombie: nothing to stop
		echo "$pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
	done
}

# check_leftovers NAME TAG REGISTRY: list (in $LEFTOVERS) and stop what suite NAME left behind
check_leftovers() {
	local name=$1 tag=$2 registry=$3 kind what pid args
	while read -r pid args; do
		echo "$name: process $pid still running: $args" >> "$LEFTOVERS"
		kill -KILL "$pid" 2>/dev/null
	done < <(suite_processes "$tag")
	while read -r kind what; do
		case $kind in
		netns) ip netns list | awk '{ print $1 }' | grep -qxF "$what" || continue ;;
		dir) [ -e "$what" ] || continue ;;
		esac
		echo "$name: $kind $what not removed" >> "$LEFTOVERS"
	done < <(cat "$registry" 2>/dev/null)
	while read -r what; do
		echo "$name: $what" >> "$LEFTOVERS"
	done < <(cat "$RESULTS/swept.txt" 2>/dev/null)
	rm -f "$RESULTS/swept.txt"
}

# run_suite NAME TIMEOUT CMD...: run one suite, keep its log, count the result
run_suite() {
	local name=$1 limit=$2; shift 2
	[ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]] && return 0
	local log="$RESULTS/$name.log" start=$SECONDS rc tag="$$-$RANDOM-$SECONDS"
	local registry="$RESULTS/created.$tag"
	mkdir -p "$(dirname "$log")"
	PMX_SUITE_TAG=$tag PMX_TB_REGISTRY=$registry PMX_LEFTOVERS=$RESULTS/swept.txt \
		timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
	rc=$?
	check_leftovers "$name" "$tag" "$registry"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-28s %4ds\n' "$name" $((SECONDS - start))
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL  %-28s %4ds (exit %d)\n' "$name" $((SECONDS - start)) $rc
		sed 's/^/      | /' "$log" | tail -40
	fi
}

say "dependencies and build"
pmx_install_deps
pmx_build

say "unit tests (CUnit, meson test)"
for t in $(meson test -C "$PMX_BUILD" --list --suite unit 2>/dev/null | grep -v '^ninja' |
	   sed 's/.* \/ //'); do
	run_suite "unit/$t" 600 meson test -C "$PMX_BUILD" --suite unit --print-errorlogs "$t"
done

say "extra suites"
for s in "$PMX_ROOT"/tests/suites/*.sh; do
	[ -e "$s" ] || continue
	run_suite "suite/$(basename "$s" .sh)" 900 bash "$s"
done

say "namespace tests (the whole appliance)"
for t in "$PMX_ROOT"/tests/ns/test_*.sh; do
	run_suite "ns/$(basename "$t" .sh)" 300 bash "$t"
done

# nothing a suite started may outlive it: a leftover fails the run, as a suite of its own
if [ -s "$LEFTOVERS" ]; then
	failed=$((failed + 1))
	failed_names+=(leftovers)
	printf 'FAIL  %-28s (what the suites left behind)\n' leftovers
	sed 's/^/      | /' "$LEFTOVERS"
elif [ $((passed + failed)) -gt 0 ]; then
	passed=$((passed + 1))
	printf 'PASS  %-28s (nothing left behind)\n' leftovers
fi

echo
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $RESULTS)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
