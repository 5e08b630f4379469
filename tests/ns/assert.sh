#!/usr/bin/env bash
# assert.sh - tiny assertions for the namespace tests: each prints "ok" or "not ok" and
# assert_done exits non-zero if any failed.
ASSERT_FAILED=0
ASSERT_COUNT=0
assert_eq() { # NAME EXPECTED ACTUAL
	ASSERT_COUNT=$((ASSERT_COUNT + 1))
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		ASSERT_FAILED=$((ASSERT_FAILED + 1))
	fi
}
assert_match() { # NAME FIXED-STRING TEXT
	ASSERT_COUNT=$((ASSERT_COUNT + 1))
	if grep -qF -- "$2" <<< "$3"; then
		echo "ok - $1"
	else
		echo "not ok - $1: [$2] not in [$3]"
		ASSERT_FAILED=$((ASSERT_FAILED + 1))
	fi
}
assert_done() {
	echo "$((ASSERT_COUNT - ASSERT_FAILED))/$ASSERT_COUNT assertions passed"
	[ "$ASSERT_FAILED" -eq 0 ]
	exit $?
}
