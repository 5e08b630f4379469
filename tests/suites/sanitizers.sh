#!/usr/bin/env bash
# sanitizers.sh - the unit tests and the end-to-end and crash namespace tests again, built with
# AddressSanitizer and UndefinedBehaviorSanitizer (gcc, -Db_sanitize=address,undefined) in a
# build directory of their own. Any sanitizer report fails the suite: unit tests abort on the
# first one; the namespace tests' processes (daemon, clients) write theirs to a directory that
# must stay empty.
#
# LeakSanitizer: on for the unit tests (and libFuzzer checks every fuzz input for leaks in
# tests/suites/fuzz.sh). Off for the DPDK processes of the namespace tests, for two reasons
# seen here: at exit it scans every mapping, hundreds of MB of hugepages and several GB of
# reserved address space, which takes seconds per process and breaks the tests' bounded waits
# for a client to exit; and what it finds there is DPDK's own (librte_bus_vdev keeps its devargs
# past rte_eal_cleanup()). Leaks of the daemon's own state are covered by the mempool and rule
# counts the namespace tests assert, and by the fuzz and unit tests.
# Hugepage memory (rte_malloc, mempools, rings) is not instrumented: Debian's DPDK is not built
# with ASan, so the sanitizers see our heap, stack and globals, and every libc call.
set -u
source "$(dirname "$0")/../../tools/lib.sh"

ASAN_BUILD=${PMX_ASAN_BUILD:-$PMX_ROOT/build-asan}
NS_TESTS=(test_e2e test_crash)
# EAL's default base address (4 GiB) lies in ASan's shadow gap, so the daemon's memory lands
# wherever mmap puts it, and a client (a secondary, which must map it at the same address) may
# find its own libraries there ("Cannot get a virtual area at requested address"): put it
# between ASan's high shadow (ends at 0x10007fff7fff) and the mmap area instead
ASAN_EAL='"--base-virtaddr", "0x300000000000"'

# warnings are the plain build's business: sanitizer instrumentation changes gcc's warnings
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
	meson setup "$ASAN_BUILD" "$PMX_ROOT" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dwerror=false > /dev/null || die "meson setup of $ASAN_BUILD failed"
fi
# only what the tests run: the unit tests' programs and the binaries the namespace tests use
ninja -C "$ASAN_BUILD" build.ninja > /dev/null || die "meson regenerate in $ASAN_BUILD failed"
targets=$(meson introspect "$ASAN_BUILD" --tests |
	jq -r '.[] | select(.suite | index("portmux:unit")) | .cmd[0]' | grep "^$ASAN_BUILD/" |
	sed "s|^$ASAN_BUILD/||") # not the script tests (layers: bash)
for t in "${NS_TESTS[@]}" ../../tools/lib; do
	targets+=" $(grep -o '\$PMX_BUILD/[A-Za-z0-9_/.-]*' "$PMX_ROOT/tests/ns/$t.sh" |
		sed 's|^\$PMX_BUILD/||' | grep -v '^build.ninja$')"
done
say "building with ASan and UBSan in $ASAN_BUILD: $(echo $targets | wc -w) programs"
ninja -C "$ASAN_BUILD" $(echo $targets | tr ' ' '\n' | sort -u) > "$ASAN_BUILD/asan-build.log" 2>&1 ||
	{ tail -30 "$ASAN_BUILD/asan-build.log"; die "build failed"; }

REPORTS=$(mktemp -d /tmp/portmux-asan.XXXXXX)
trap 'rm -rf "$REPORTS"' EXIT
failed=0

say "unit tests under ASan+UBSan"
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C "$ASAN_BUILD" --no-rebuild --suite unit --print-errorlogs \
	> "$REPORTS/unit.log" 2>&1 ||
	failed=$((failed + 1))
grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout):' "$REPORTS/unit.log"
[ "$failed" -eq 0 ] || tail -60 "$REPORTS/unit.log"

for t in "${NS_TESTS[@]}"; do
	say "$t under ASan+UBSan"
	mkdir -p "$REPORTS/$t"
	ASAN_OPTIONS=log_path=$REPORTS/$t/asan:detect_leaks=0 \
	UBSAN_OPTIONS=log_path=$REPORTS/$t/ubsan:halt_on_error=1:print_stacktrace=1 \
	PMX_BUILD=$ASAN_BUILD TB_EAL_EXTRA=$ASAN_EAL bash "$PMX_ROOT/tests/ns/$t.sh" \
		> "$REPORTS/$t.log" 2>&1
	rc=$?
	grep -E '^(not ok|[0-9]+/[0-9]+ assertions)' "$REPORTS/$t.log"
	if [ $rc -ne 0 ]; then
		echo "$t: exit $rc"
		tail -30 "$REPORTS/$t.log"
		failed=$((failed + 1))
	fi
	for r in "$REPORTS/$t"/*; do
		[ -e "$r" ] || continue
		echo "sanitizer report $(basename "$r"):"
		head -40 "$r"
		failed=$((failed + 1))
	done
done
echo "sanitizers: unit suite and ${#NS_TESTS[@]} namespace tests, $failed failed"
[ "$failed" -eq 0 ]
