#!/bin/sh
# container-entrypoint.sh - the image's entrypoint: runs portmuxd (or the command given) as the
# unprivileged user "portmux" with only the capabilities DPDK needs, as ambient capabilities.
#
#   (no arguments) or "-..."   portmuxd with these arguments (default: -c /etc/portmux/portmux.json)
#   COMMAND ARGS...            that command (e.g. portmux-echo 7, portmux-ctl), no capabilities
#
# Environment:
#   PORTMUX_USER  user to run as (default portmux); "root" keeps root and the container's caps
#   PORTMUX_CAPS  capabilities to keep (default net_admin,net_raw,ipc_lock,net_bind_service;
#                 add sys_admin for drivers that need physical addresses: UIO, not vfio-pci)
# A capability the container was not given (not in its bounding set) is left out with a note.
set -eu

user=${PORTMUX_USER:-portmux}
want=${PORTMUX_CAPS:-net_admin,net_raw,ipc_lock,net_bind_service}

if [ $# -eq 0 ]; then
	set -- /usr/sbin/portmuxd -c /etc/portmux/portmux.json
else
	case "$1" in
	-*) set -- /usr/sbin/portmuxd "$@" ;;
	esac
fi

# --version and --help need no preparation
prepare=1
for a in "$@"; do
	case "$a" in
	--version | --help | -h | -V) prepare=0 ;;
	esac
done

# started as non-root (docker run --user ...) or asked to stay root: nothing to drop
if [ "$(id -u)" -ne 0 ] || [ "$user" = root ]; then
	exec "$@"
fi

uid=$(id -u "$user") || { echo "portmux-entrypoint: no user $user" >&2; exit 1; }
gid=$(id -g "$user")

# the shared runtime volume: control socket and DPDK runtime directory, owned by the user
run=${RUNTIME_DIRECTORY:-/run/portmux}
if [ "$1" = /usr/sbin/portmuxd ] && [ $prepare -eq 1 ] &&
	[ "$(stat -c %u "$run" 2>/dev/null)" != "$uid" ]; then
	mkdir -p "$run" && chmod 0750 "$run" && chown "$uid:$gid" "$run" ||
		echo "portmux-entrypoint: cannot give $run to $user" >&2
fi

# hugepages must be writable by the user (mount hugetlbfs with uid=/gid= options, DEPLOY.md)
if [ "$1" = /usr/sbin/portmuxd ] && [ $prepare -eq 1 ] && [ -d /dev/hugepages ] &&
	! setpriv --reuid="$uid" --regid="$gid" --clear-groups test -w /dev/hugepages; then
	echo "portmux-entrypoint: /dev/hugepages is not writable by uid $uid: mount hugetlbfs" \
		"with -o uid=$uid,gid=$gid (docs/DEPLOY.md) or set PORTMUX_USER=root" >&2
fi

# the daemon keeps the wanted capabilities that are in the bounding set (CapBnd in
# /proc/self/status); other commands (clients, portmux-ctl) get none
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status 2>/dev/null) || bnd=0
keep=""
[ "$1" = /usr/sbin/portmuxd ] || want=""
for cap in $(echo "$want" | tr ',' ' '); do
	case "$cap" in
	chown) bit=0 ;; dac_override) bit=1 ;; dac_read_search) bit=2 ;;
	net_bind_service) bit=10 ;; net_admin) bit=12 ;; net_raw) bit=13 ;; ipc_lock) bit=14 ;;
	sys_rawio) bit=17 ;; sys_admin) bit=21 ;; sys_nice) bit=23 ;;
	*) echo "portmux-entrypoint: unknown capability $cap" >&2; exit 1 ;;
	esac
	if [ $(((0x$bnd >> bit) & 1)) -eq 1 ]; then
		keep="$keep,+$cap"
	else
		echo "portmux-entrypoint: the container lacks CAP_$(echo "$cap" | tr a-z A-Z)" \
			"(--cap-add); continuing without it" >&2
	fi
done

exec setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps="-all$keep" \
	--ambient-caps="-all$keep" --bounding-set="-all$keep" -- "$@"
