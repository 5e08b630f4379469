#!/usr/bin/env bash
# cli.sh - suite: every program's command line, without namespaces, hugepages or a daemon.
# For portmuxd, portmux-ctl, portmux-echo, portmux-httpd and the bench tools: -h/--help prints
# the usage on stdout (nothing on stderr) and exits 0; -V/--version prints "NAME VERSION"; an
# unknown option and a bad number (not a number, trailing characters, out of range) exit 2
# with a message on stderr and nothing on stdout. portmuxd --check-config: a good file exits 0
# with the effective config as JSON (defaults filled in, and that output checks again to the
# same text), every tests/config/bad-*.json exits 1 with the message expected-errors.txt
# gives, and EAL never starts (no runtime directory, no hugepage file of the file-prefix).
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$PMX_ROOT/tests/ns/assert.sh"

T=$(mktemp -d /tmp/portmux-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$PMX_ROOT/meson.build" | head -1)

# run NAME CMD...: the exit status, stdout and stderr of CMD into $rc, $out, $err
run() {
	local name=$1
	shift
	"$@" > "$T/$name.out" 2> "$T/$name.err" < /dev/null
	rc=$?
	out=$(cat "$T/$name.out")
	err=$(cat "$T/$name.err")
}

# the checks every program passes; bad_args: command lines with one bad number, one a line
# ("-OPTION VALUE [ARG...]" or a lone VALUE)
common() {
	local prog=$1 exe=$2 bad_args=$3 args
	for h in -h --help; do
		run "$prog$h" "$exe" "$h"
		assert_eq "$prog $h: exit 0" 0 "$rc"
		assert_eq "$prog $h: usage on stdout" "Usage: $prog" "$(head -1 <<< "$out" | cut -d' ' -f1-2)"
		assert_eq "$prog $h: nothing on stderr" "" "$err"
	done
	for v in -V --version; do
		run "$prog$v" "$exe" "$v"
		assert_eq "$prog $v: exit 0" 0 "$rc"
		assert_eq "$prog $v: NAME VERSION" "$prog $version" "$(cut -d' ' -f1-2 <<< "$out")"
	done
	run "$prog-bogus" "$exe" --no-such-option
	assert_eq "$prog --no-such-option: exit 2" 2 "$rc"
	assert_eq "$prog --no-such-option: nothing on stdout" "" "$out"
	assert_match "$prog --no-such-option: says so on stderr" "--no-such-option" "$err"
	while read -r -a args; do
		[ ${#args[@]} -gt 0 ] || continue
		run "$prog-badnum" "$exe" "${args[@]}"
		assert_eq "$prog ${args[*]}: exit 2" 2 "$rc"
		assert_eq "$prog ${args[*]}: nothing on stdout" "" "$out"
		# the bad value: the option's argument, or the one argument
		assert_match "$prog ${args[*]}: names the value on stderr" \
			"\"${args[1]:-${args[0]}}\"" "$err"
	done <<< "$bad_args"
}

say "command lines"
DAEMON=$PMX_BUILD/app/portmuxd/portmuxd
[ -x "$DAEMON" ] || die "no $DAEMON: build first"
common portmuxd "$DAEMON" ""
run portmuxd-noconf "$DAEMON"
assert_eq "portmuxd without -c: exit 2" 2 "$rc"
assert_match "portmuxd without -c: says what is missing" "-c FILE" "$err"
common portmux-ctl "$PMX_BUILD/tools/portmux-ctl/portmux-ctl" ""
common portmux-echo "$PMX_BUILD/app/portmux-echo/portmux-echo" "-q 4x 7
-q 9 7
-w -1 7
-w 86401 7
70000
0x10"
HTTPD=$PMX_BUILD/app/portmux-httpd/portmux-httpd
if [ -x "$HTTPD" ]; then
	common portmux-httpd "$HTTPD" "-l 70000
-l 80x
-m 33
-c 0
-w -5"
else
	echo "skip - portmux-httpd not built (liblwip-dev missing)"
fi
[ -x "$PMX_BUILD/tools/bench/pmx-sink" ] && common pmx-sink "$PMX_BUILD/tools/bench/pmx-sink" \
	"-n 0
-n 65
-p 1e3
-d -1
-w nan
-R inf"
[ -x "$PMX_BUILD/tools/bench/pmx-ceiling" ] && common pmx-ceiling \
	"$PMX_BUILD/tools/bench/pmx-ceiling" "-n 0
-n 65
-s 3
-m 1e3
-d 0"
[ -x "$PMX_BUILD/tools/bench/pmx-ctl-rate" ] && common pmx-ctl-rate \
	"$PMX_BUILD/tools/bench/pmx-ctl-rate" "-W 0
-W 1025
-b 65535
-d 0
-d 31"

say "portmuxd --check-config"
prefix=pmxcli$$
no_eal() { # NAME: nothing of EAL for the file-prefix
	assert_eq "$1: no EAL (no runtime directory, no hugepage file)" "" \
		"$(ls -d /var/run/dpdk/$prefix /dev/hugepages/$prefix* 2>/dev/null)"
}
for f in "$PMX_ROOT"/tests/config/good-*.json "$PMX_ROOT"/conf/*.json; do
	name=$(basename "$f")
	# the same file with a file-prefix of this run's, to look for EAL's files after
	jq --arg p "$prefix" '.eal += ["--file-prefix", $p]' "$f" > "$T/$name"
	run "check-$name" "$DAEMON" --check-config "$T/$name"
	assert_eq "--check-config $name: exit 0" 0 "$rc"
	assert_eq "--check-config $name: nothing on stderr" "" "$err"
	assert_eq "--check-config $name: JSON with defaults (clients.max, mbuf_pool)" \
		"true" "$(jq '(.clients.max | type == "number") and (.mbuf_pool | type == "string")' \
			<<< "$out" 2> /dev/null)"
	cp "$T/check-$name.out" "$T/effective-$name"
	run "recheck-$name" "$DAEMON" --check-config "$T/effective-$name"
	assert_eq "--check-config of its own output ($name): the same text" \
		"$(cat "$T/effective-$name")" "$out"
	no_eal "--check-config $name"
done
# EAL arguments after "--" are part of the effective config
run check-eal "$DAEMON" --check-config "$T/good-minimal.json" -- --log-level=lib.eal:debug
assert_eq "--check-config FILE -- ARGS: the ARGS end \"eal\"" '"--log-level=lib.eal:debug"' \
	"$(jq '.eal[-1]' <<< "$out")"
# defaults filled in: good-minimal.json sets none of these
assert_eq "--check-config good-minimal.json: the documented defaults" \
	'{"rx_queues":1,"policy":"pass","socket":"/run/portmux/portmux.sock","mode":"0660","max":64,"mbufs":32768}' \
	"$(jq -c '{rx_queues: .ports[0].rx_queues, policy: .kernel.policy, socket: .control.socket,
		mode: .control.mode, max: .clients.max, mbufs: .mbufs}' "$T/effective-good-minimal.json")"
n=0
while read -r file expect; do
	[ -n "$file" ] || continue
	n=$((n + 1))
	run "bad-$file" "$DAEMON" --check-config "$PMX_ROOT/tests/config/$file"
	assert_eq "--check-config $file: exit 1" 1 "$rc"
	assert_eq "--check-config $file: nothing on stdout" "" "$out"
	assert_match "--check-config $file: the error names the key" "$expect" "$err"
done < "$PMX_ROOT/tests/config/expected-errors.txt"
echo "bad configs: $n"
run check-missing "$DAEMON" --check-config "$T/no-such-file.json"
assert_eq "--check-config of a missing file: exit 1" 1 "$rc"
assert_match "--check-config of a missing file: says so" "no-such-file.json" "$err"
run check-with-c "$DAEMON" -c "$T/good-minimal.json" --check-config "$T/good-minimal.json"
assert_eq "--check-config with -c: a usage error (exit 2)" 2 "$rc"
no_eal "--check-config with -c"
assert_done
