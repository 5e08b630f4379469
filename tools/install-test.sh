#!/usr/bin/env bash
# install-test.sh - what `meson install` delivers, checked the way a distribution package uses
# it: configure with --prefix=/usr, install into a DESTDIR, check every file lands where Debian
# expects it, check that a reinstall keeps an edited config, run the installed programs' --version,
# check the systemd unit, and build and run
# a small program against the installed libportmux-client through its pkg-config file.
# Usage: tools/install-test.sh [--fresh] [-k]. No network, no root.
#   The build directory (configured as above) is kept in /var/tmp between runs, one per source
#   tree, so that a run recompiles only what changed; --fresh configures and builds from
#   scratch in the temporary directory. The DESTDIR and every check are new on each run.
#   -k keeps the temporary directory.
set -u
PMX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0 FRESH=0
for a in "$@"; do
	case "$a" in
	-k) KEEP=1 ;;
	--fresh) FRESH=1 ;;
	*) echo "usage: $0 [--fresh] [-k]" >&2; exit 2 ;;
	esac
done

T=$(mktemp -d /tmp/portmux-install.XXXXXX)
D=$T/root
cleanup() { [ $KEEP -eq 1 ] && echo "kept $T" || rm -rf "$T"; }
trap cleanup EXIT
B=$T/build
if [ $FRESH -eq 0 ]; then
	B=/var/tmp/portmux-install-build-$(printf '%s' "$PMX_ROOT" | md5sum | cut -c1-8)
	# one run at a time per build directory
	exec 9> "$B.lock"
	flock 9
fi

fails=0
ok() { printf '  ok    %s\n' "$*"; }
bad() { printf '  FAIL  %s\n' "$*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$PMX_ROOT/meson.build" | head -1)
[ -n "$version" ] || die "no version in meson.build"
multiarch=$(gcc -print-multiarch 2>/dev/null)
libdir=usr/lib${multiarch:+/$multiarch}

# relocatable pkg-config file: with PKG_CONFIG_PATH into the DESTDIR it names the DESTDIR's
# headers and library, while libdpdk (a Requires) still resolves to the system's
echo "== meson setup --prefix=/usr, build ($B), DESTDIR install ($D)"
start=$SECONDS
setup=(--prefix=/usr -Dtests=false -Dpkgconfig.relocatable=true)   # the project's buildtype
if [ ! -f "$B/build.ninja" ] ||
	[ "$(cat "$B/.install-test-setup" 2>/dev/null)" != "${setup[*]}" ]; then
	rm -rf "$B"
	meson setup "$B" "$PMX_ROOT" "${setup[@]}" > "$T/setup.log" 2>&1 ||
		{ cat "$T/setup.log"; rm -rf "$B"; die "meson setup failed"; }
	echo "${setup[*]}" > "$B/.install-test-setup"
fi
# build only what is installed (benchmarks and test programs are not part of the install)
targets=$(meson introspect --targets "$B" | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["installed"]:
        print("\n".join(t["filename"]))' | sed "s|^$B/||")
[ -n "$targets" ] || die "meson introspect lists no installed target"
# shellcheck disable=SC2086
ninja -C "$B" $targets > "$T/build.log" 2>&1 || { tail -40 "$T/build.log"; die "build failed"; }
DESTDIR=$D meson install -C "$B" --no-rebuild > "$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; die "meson install failed"; }
echo "  built ($(grep -c '^\[' "$T/build.log") steps) and installed in $((SECONDS - start)) s"

echo "== installed files"
(cd "$D" && find . -not -type d | sed 's|^\./|  /|' | sort)

echo "== files where a distribution expects them"
expect_exec=(usr/sbin/portmuxd usr/bin/portmux-echo)
[ -f "$PMX_ROOT/tools/portmux-ctl/meson.build" ] && expect_exec+=(usr/bin/portmux-ctl)
grep -q "install *: *true" "$PMX_ROOT/app/portmux-httpd/meson.build" 2>/dev/null &&
	pkg-config --exists lwip && expect_exec+=(usr/bin/portmux-httpd)
for f in "${expect_exec[@]}"; do
	check "/$f (executable)" test -x "$D/$f"
done
for f in "$libdir/libportmux-client.so" "$libdir/libportmux-client.so.0" \
	"$libdir/libportmux-client.so.$version" "$libdir/pkgconfig/libportmux-client.pc" \
	usr/include/portmux/portmux_client.h usr/include/portmux/pmx_shm.h \
	usr/include/portmux/pmx_latency.h \
	usr/lib/systemd/system/portmuxd.service etc/portmux/portmux.json \
	etc/portmux/portmux.json.example \
	usr/share/doc/portmux/DEPLOY.md; do
	check "/$f" test -e "$D/$f"
done
# man pages, made by help2man from each program's --help (built when help2man is installed)
if command -v help2man > /dev/null; then
	man_pages=(usr/share/man/man8/portmuxd.8 usr/share/man/man8/portmux-ctl.8
		usr/share/man/man1/portmux-echo.1)
	[ -x "$D/usr/bin/portmux-httpd" ] && man_pages+=(usr/share/man/man1/portmux-httpd.1)
	for f in "${man_pages[@]}"; do
		check "/$f (its OPTIONS list --help)" grep -qF -- '\-\-help' "$D/$f"
	done
else
	echo "  skip  man pages: help2man not installed"
fi
stray=$(cd "$D" && find . -not -type d | grep -v -e '^./usr/' -e '^./etc/portmux/' || true)
check "nothing outside /usr and /etc/portmux" test -z "$stray"
[ -z "$stray" ] || echo "$stray" | sed 's/^/        /'

echo "== a reinstall keeps an edited /etc/portmux/portmux.json (conf/install-config.sh)"
conf=$D/etc/portmux/portmux.json
check "a first install copies the example to portmux.json" \
	cmp -s "$conf" "$PMX_ROOT/conf/portmux.json"
check "portmux.json.example is conf/portmux.json" \
	cmp -s "$conf.example" "$PMX_ROOT/conf/portmux.json"
sed -i 's/"mbufs": *[0-9]*/"mbufs": 65536/' "$conf"
check "the operator's edit is made" grep -q '"mbufs": 65536' "$conf"
DESTDIR=$D meson install -C "$B" --no-rebuild > "$T/reinstall.log" 2>&1 ||
	{ cat "$T/reinstall.log"; die "meson install (again) failed"; }
check "after a reinstall the edit is still there" grep -q '"mbufs": 65536' "$conf"
check "the reinstall ran conf/install-config.sh" grep -q "install-config.sh" "$T/reinstall.log"
check "and the example is the shipped one" cmp -s "$conf.example" "$PMX_ROOT/conf/portmux.json"

echo "== installed programs print the version of meson.build ($version)"
export LD_LIBRARY_PATH=$D/$libdir
out=$("$D/usr/sbin/portmuxd" --version 2>&1)
check "portmuxd --version: $out" test "$out" = "portmuxd $version"
out=$("$D/usr/bin/portmux-echo" -V 2>&1)
check "portmux-echo -V: $out" test "$out" = "portmux-echo $version"
if [ -x "$D/usr/bin/portmux-ctl" ]; then
	out=$("$D/usr/bin/portmux-ctl" --version 2>&1)
	check "portmux-ctl --version: $out" test "$out" = "portmux-ctl $version"
fi
unset LD_LIBRARY_PATH

echo "== systemd unit"
unit=$D/usr/lib/systemd/system/portmuxd.service
check "ExecStart runs /usr/sbin/portmuxd with /etc/portmux/portmux.json" \
	grep -q '^ExecStart=/usr/sbin/portmuxd -c /etc/portmux/portmux.json' "$unit"
if command -v systemd-analyze > /dev/null; then
	# a copy whose ExecStart names the DESTDIR's binary: verify checks that it is executable
	mkdir -p "$T/unit"
	sed "s|/usr/sbin/portmuxd|$D/usr/sbin/portmuxd|" "$unit" > "$T/unit/portmuxd.service"
	systemd-analyze verify "$T/unit/portmuxd.service" > "$T/verify.log" 2>&1
	# verify exits 0 on "ignoring" warnings: any line about our unit fails the check, while
	# complaints about other units of this host are not ours
	if ! grep -q portmuxd "$T/verify.log"; then
		ok "systemd-analyze verify: nothing about portmuxd.service"
	else
		bad "systemd-analyze verify"; sed 's/^/        /' "$T/verify.log"
	fi
	exposure=$(systemd-analyze security --offline=true "$T/unit/portmuxd.service" 2>/dev/null |
		grep -o 'Overall exposure level.*')
	echo "  info  systemd-analyze security: ${exposure:-n/a}"
else
	echo "  skip  systemd-analyze not installed"
fi

echo "== a program built against the installed libportmux-client (pkg-config)"
export PKG_CONFIG_PATH=$D/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs libportmux-client 2>&1)
check "pkg-config --cflags --libs libportmux-client" test $? -eq 0
incdir=$(realpath -m "$(pkg-config --variable=includedir libportmux-client)")
check "its includedir is the DESTDIR's ($incdir)" test "$incdir" = "$D/usr/include"
cat > "$T/client.c" <<'C'
/* client.c - links against the installed libportmux-client; no switch is running */
#include <errno.h>
#include <stdio.h>
#include <portmux_client.h>

int main(void)
{
	struct pmx_client_params p = {.socket_path = "/nonexistent/portmux.sock", .name = "t"};
	struct pmx_client *c = NULL;
	int ret = pmx_client_open(&p, &c);

	printf("pmx_client_open: %d (expected -ENOENT = %d)\n", ret, -ENOENT);
	return ret == -ENOENT ? 0 : 1;
}
C
# shellcheck disable=SC2086
check "cc client.c \$(pkg-config --cflags --libs libportmux-client)" \
	gcc -Wall -Werror -o "$T/client" "$T/client.c" $flags
if [ -x "$T/client" ]; then
	check "it links libportmux-client.so.0 from DESTDIR" sh -c \
		"LD_LIBRARY_PATH=$D/$libdir ldd $T/client | grep -q '$D/$libdir/libportmux-client.so.0'"
	out=$(LD_LIBRARY_PATH=$D/$libdir "$T/client" 2>&1)
	check "it runs: $out" test $? -eq 0
fi

echo
if [ $fails -eq 0 ]; then
	echo "install test: all checks passed"
else
	echo "install test: $fails check(s) failed"
fi
[ $fails -eq 0 ]
