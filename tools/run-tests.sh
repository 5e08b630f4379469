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

# run_suite NAME TIMEOUT CMD...: run one suite, keep its log, count the result
run_suite() {
	local name=$1 limit=$2; shift 2
	[ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]] && return 0
	local log="$RESULTS/$name.log" start=$SECONDS rc
	mkdir -p "$(dirname "$log")"
	timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
	rc=$?
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

echo
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $RESULTS)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
