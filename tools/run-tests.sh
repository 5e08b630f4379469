#!/usr/bin/env bash
# run-tests.sh - the README's test command: installs what is missing, builds, and runs every
# suite (CUnit unit tests, extra suites under tests/suites/, namespace tests under tests/ns/).
# Prints "[n/N] name" as each suite starts, its result and time as it ends, and ends with
# "N passed, M failed". Run as root.
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

# The suites to run, in order: SUITE_NAME[i] runs SUITE_CMD[i] (a command line for bash -c)
# within SUITE_LIMIT[i]. Listed first, so that each can be numbered [n/N] as it starts.
SUITE_NAME=() SUITE_LIMIT=() SUITE_CMD=()
add_suite() {
	[ -n "$ONLY" ] && [[ "$1" != *"$ONLY"* ]] && return 0
	SUITE_NAME+=("$1")
	SUITE_LIMIT+=("$2")
	SUITE_CMD+=("$3")
}

# run_suite N: run suite N, keep its log, count the result. "[n/N] name" as it starts; its
# time as it ends (on a terminal the line is finished in place, in a log a second line).
run_suite() {
	local i=$1 name=${SUITE_NAME[$1]} count
	local log="$RESULTS/${SUITE_NAME[$1]}.log" start=$SECONDS rc tag="$$-$RANDOM-$SECONDS"
	local registry="$RESULTS/created.$tag"
	count=$(printf '[%d/%d]' $((i + 1)) ${#SUITE_NAME[@]})
	if [ -t 1 ]; then
		printf '%-9s %-34s running' "$count" "$name"
	else
		printf '%-9s %s\n' "$count" "$name"
	fi
	mkdir -p "$(dirname "$log")"
	PMX_SUITE_TAG=$tag PMX_TB_REGISTRY=$registry PMX_LEFTOVERS=$RESULTS/swept.txt \
		timeout --kill-after=10 "${SUITE_LIMIT[$i]}" bash -c "${SUITE_CMD[$i]}" > "$log" 2>&1
	rc=$?
	check_leftovers "$name" "$tag" "$registry"
	[ -t 1 ] && printf '\r\033[K'
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-9s %-34s %4ds\n' "$count" "$name" $((SECONDS - start))
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL  %-9s %-34s %4ds (exit %d)\n' "$count" "$name" $((SECONDS - start)) $rc
		sed 's/^/      | /' "$log" | tail -40
	fi
}

say "dependencies and build"
pmx_install_deps
pmx_build

# unit tests (CUnit, meson test), extra suites (tests/suites/), namespace tests (the whole
# appliance, tests/ns/)
for t in $(meson test -C "$PMX_BUILD" --list --suite unit 2>/dev/null | grep -v '^ninja' |
	   sed 's/.* \/ //'); do
	add_suite "unit/$t" 600 "meson test -C '$PMX_BUILD' --suite unit --print-errorlogs '$t'"
done
for s in "$PMX_ROOT"/tests/suites/*.sh; do
	[ -e "$s" ] || continue
	add_suite "suite/$(basename "$s" .sh)" 900 "bash '$s'"
done
for t in "$PMX_ROOT"/tests/ns/test_*.sh; do
	add_suite "ns/$(basename "$t" .sh)" 300 "bash '$t'"
done

say "${#SUITE_NAME[@]} suites${ONLY:+ matching \"$ONLY\"}: unit tests, extra suites, namespace tests"
t0=$SECONDS
for ((n = 0; n < ${#SUITE_NAME[@]}; n++)); do
	run_suite $n
done

# nothing a suite started may outlive it: a leftover fails the run, as a suite of its own
if [ -s "$LEFTOVERS" ]; then
	failed=$((failed + 1))
	failed_names+=(leftovers)
	printf 'FAIL  %-9s %-34s (what the suites left behind)\n' '' leftovers
	sed 's/^/      | /' "$LEFTOVERS"
elif [ $((passed + failed)) -gt 0 ]; then
	passed=$((passed + 1))
	printf 'PASS  %-9s %-34s (nothing left behind)\n' '' leftovers
fi

echo
echo "$(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s for ${#SUITE_NAME[@]} suites"
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $RESULTS)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
