#!/usr/bin/env bash
# fuzz.sh - bounded fuzzing: builds the targets of tests/fuzz/ with clang, libFuzzer, ASan and
# UBSan in a build directory of their own and fuzzes each for FUZZ_SECONDS (default 50),
# seeded with tests/fuzz/corpus/<target>/. Fails on any crash, leak, hang or broken invariant,
# and prints where the input was saved (add it to the corpus as a regression case once fixed).
# Prints the executions of each target. FUZZ_SECONDS=600 for a longer run.
set -u
source "$(dirname "$0")/../../tools/lib.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-50}
FUZZ_BUILD=${PMX_FUZZ_BUILD:-$PMX_ROOT/build-fuzz}
TARGETS=(packet config ctl usnetd)

# clang and its runtime (libclang_rt.fuzzer) from Debian
missing=()
for p in clang libclang-rt-14-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" > /dev/null || die "apt-get install failed"
fi

# everything is compiled with coverage (fuzzer-no-link) so the fuzzer sees inside the libraries;
# only tests/fuzz links libFuzzer itself. Warnings are the gcc builds' business: werror off here.
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
	CC=clang meson setup "$FUZZ_BUILD" "$PMX_ROOT" -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false > /dev/null ||
		die "meson setup of $FUZZ_BUILD failed"
fi
say "building the fuzz targets in $FUZZ_BUILD"
ninja -C "$FUZZ_BUILD" "${TARGETS[@]/#/tests/fuzz/fuzz_}" > "$FUZZ_BUILD/fuzz-build.log" 2>&1 ||
	{ tail -30 "$FUZZ_BUILD/fuzz-build.log"; die "build failed"; }

WORK=$(mktemp -d /tmp/portmux-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS=quarantine_size_mb=32:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0 total=0
for t in "${TARGETS[@]}"; do
	seeds=$PMX_ROOT/tests/fuzz/corpus/$t
	mkdir -p "$WORK/$t" "$WORK/artifacts"
	say "fuzz_$t: ${FUZZ_SECONDS}s from $(ls "$seeds" | wc -l) seeds"
	# new inputs go to the scratch directory (first), the committed seeds are only read;
	# -max_len keeps inputs small (longer inputs are in the corpus: oversize control lines)
	(cd "$WORK" && "$FUZZ_BUILD/tests/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" \
		-rss_limit_mb=2048 -timeout=10 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$WORK/artifacts/$t-" "$WORK/$t" "$seeds") > "$WORK/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$WORK/$t.log" | tail -1)
	total=$((total + ${runs:-0}))
	printf 'fuzz_%s: %s executions in %ss, %s, corpus %s -> %s inputs, exit %d\n' "$t" \
		"${runs:-?}" "$FUZZ_SECONDS" "${cov:-cov: ?}" "$(ls "$seeds" | wc -l)" \
		"$(( $(ls "$seeds" | wc -l) + $(ls "$WORK/$t" | wc -l) ))" "$rc"
	if [ "$rc" -ne 0 ] || ls "$WORK/artifacts/$t-"* > /dev/null 2>&1; then
		failed=$((failed + 1))
		grep -E 'ERROR|SUMMARY|invariant|runtime error' "$WORK/$t.log" | head -10
		for a in "$WORK/artifacts/$t-"*; do
			[ -e "$a" ] || continue
			mkdir -p "$PMX_ROOT/build-fuzz-crashes"
			cp "$a" "$PMX_ROOT/build-fuzz-crashes/"
			echo "crash input kept: $PMX_ROOT/build-fuzz-crashes/$(basename "$a")"
			echo "  base64: $(base64 -w0 "$a" | head -c 400)"
		done
		tail -40 "$WORK/$t.log"
	fi
done
echo "fuzzing: $total executions over ${#TARGETS[@]} targets, $failed failed"
[ "$failed" -eq 0 ]
