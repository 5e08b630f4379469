#!/usr/bin/env bash
# tools/lib.sh - shared by the demo and the tests: packages, build, hugepages, a namespace
# testbed (peer <-veth-> portmuxd <-tap-> kernel), daemon start/stop, control requests.
# Everything a function creates is recorded and removed by tb_cleanup (run from a trap).

PMX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PMX_BUILD=${PMX_BUILD:-$PMX_ROOT/build}
PMX_PY=/usr/bin/python3
PMX_PKGS=(dpdk dpdk-dev libdpdk-dev libjansson-dev libcunit1-dev meson ninja-build pkg-config
	  gcc iproute2 iputils-ping socat ethtool jq tcpdump python3-scapy procps curl liblwip-dev
	  nettle-dev libpcap-dev libnftables-dev nftables help2man gnuplot-nox dnsmasq-base
	  libmicrohttpd-dev prometheus)

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# pmx_tty: is stdout a terminal? There the set-up shows apt's and ninja's own progress; in a
# log (CI) it keeps what a reader needs: apt's package lists and errors, meson's summary,
# ninja's failures, not a line per download, unpacked package or compiled file.
pmx_tty() { [ -t 1 ]; }

# apt's lines that say nothing in a log: one per download, unpack, set-up and trigger
PMX_APT_NOISE='^(Get:[0-9]|Hit:[0-9]|Ign:[0-9]|Selecting previously unselected|Preparing to unpack|Unpacking |Setting up |Processing triggers|\(Reading database)'

# Install the Debian packages that are missing (nothing printed when all are there).
pmx_install_deps() {
	local missing=() p rc
	for p in "${PMX_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	if pmx_tty; then
		apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends "${missing[@]}" ||
			die "apt-get install failed"
		return 0
	fi
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" 2>&1 | grep -Ev "$PMX_APT_NOISE"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || die "apt-get install failed (exit $rc)"
}

# Configure (once) and build with meson/ninja: meson's summary each time it configures;
# ninja's progress on a terminal, elsewhere only what failed (--quiet keeps the commands'
# output: the compiler's errors and warnings).
pmx_build() {
	if [ ! -f "$PMX_BUILD/build.ninja" ]; then
		say "meson setup $PMX_BUILD"
		meson setup "$PMX_BUILD" "$PMX_ROOT" || die "meson setup failed"
	fi
	say "ninja -C $PMX_BUILD"
	if pmx_tty; then
		ninja -C "$PMX_BUILD" || die "build failed"
	else
		ninja -C "$PMX_BUILD" --quiet || die "build failed"
	fi
}

TB_CLEANUP=()   # commands run in reverse order by tb_cleanup
tb_on_exit() { TB_CLEANUP+=("$*"); }
tb_cleanup() {
	local i
	for ((i = ${#TB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${TB_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	TB_CLEANUP=()
}

# Reserve 2 MiB hugepages (at least $1, default 512) and mount hugetlbfs; undone on exit.
pmx_hugepages() {
	local want=${1:-512} nr
	nr=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$nr" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages
		tb_on_exit "echo $nr > /proc/sys/vm/nr_hugepages"
		[ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$want" ] || die "cannot reserve $want hugepages"
	fi
	if ! grep -q '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages || die "cannot mount hugetlbfs"
		tb_on_exit "umount /dev/hugepages"
	fi
}

# tb_record KIND NAME: note a namespace or directory this test creates in $PMX_TB_REGISTRY
# (set by tools/run-tests.sh, which checks after the suite that each is gone).
tb_record() { [ -z "${PMX_TB_REGISTRY:-}" ] || echo "$1 $2" >> "$PMX_TB_REGISTRY"; }

# tb_netns_add NS: create a network namespace, deleted on exit by tb_netns_del.
tb_netns_add() {
	ip netns add "$1" || return 1
	tb_record netns "$1"
	tb_on_exit "tb_netns_del $1"
}

# tb_netns_del NS: delete a namespace. A process still in it is a process its test did not
# stop: it is named on stderr (and in $PMX_LEFTOVERS, which makes tools/run-tests.sh fail),
# then killed, so that nothing keeps the deleted namespace alive.
tb_netns_del() {
	local ns=$1 pid i left
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		left="left running in $ns: $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
		echo "LEFTOVER: $left" >&2
		[ -z "${PMX_LEFTOVERS:-}" ] || echo "$left" >> "$PMX_LEFTOVERS"
		kill -KILL "$pid" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
		sleep 0.1
	done
	ip netns del "$ns"
}

# tb_up: two namespaces joined by a veth standing in for the wire.
#   $TB_PEER: the remote host, eth0 198.18.0.2/24 (and fd00::2/64)
#   $TB_APP:  the appliance: portmuxd takes "pmx-wire" (its NIC) and creates "pmx0"
#             (the kernel path), which gets 198.18.0.1/24 (and fd00::1/64).
tb_up() {
	TB_ID=${TB_ID:-$$}
	TB_APP=pmx-app-$TB_ID
	TB_PEER=pmx-peer-$TB_ID
	TB_PREFIX=pmx$TB_ID
	TB_DIR=$(mktemp -d /tmp/portmux-tb.XXXXXX)
	TB_SOCK=$TB_DIR/portmux.sock
	tb_record dir "$TB_DIR"
	tb_on_exit "rm -rf $TB_DIR"
	tb_netns_add "$TB_APP"
	tb_netns_add "$TB_PEER"
	ip link add pmx-wire netns "$TB_APP" type veth peer name eth0 netns "$TB_PEER" ||
		die "cannot create the veth pair"
	for ns in "$TB_APP" "$TB_PEER"; do
		ip -n "$ns" link set lo up
	done
	# both ends keep the kernel's defaults (the peer's checksum offload, TSO and GSO on):
	# portmuxd itself keeps the appliance's kernel off pmx-wire and turns off what merges its
	# frames (nic_offloads.c)
	ip -n "$TB_APP" link set pmx-wire up
	ip -n "$TB_PEER" addr add 198.18.0.2/24 dev eth0
	ip -n "$TB_PEER" addr add fd00::2/64 dev eth0 nodad
	ip -n "$TB_PEER" link set eth0 up
}

# tb_config [policy]: write the daemon's config for the testbed to $TB_CONF. Variables set
# for the call change the defaults:
#   TB_LCORES     EAL --lcores of the daemon      (default: -l 0-1, management 0 and RX 1)
#   TB_DEVICE     the NIC port's device           (default: net_af_packet0 on pmx-wire, 1 queue)
#   TB_RX_QUEUES  its RX queues, one an RX lcore  (default: 1; auto: the key left out,
#                 so that portmuxd takes one per RX lcore)
#   TB_TAP_LOG    the log level of the tap PMD    (default: warning)
#   TB_MEMIF      1: clients may attach over memif (default: off, as in the daemon)
#   TB_EAL_EXTRA  more EAL arguments, as JSON strings ('"--base-virtaddr", "0x300000000000"')
#   TB_USNETD     a path: usnetd's datagram socket there (default: off, as in the daemon)
# e.g. TB_LCORES="(0-2)@(0-1)" TB_RX_QUEUES=2 TB_DEVICE=net_pcap0,... tb_config
tb_config() {
	local policy=${1:-pass} cores='"-l", "0-1"' usnetd="" rxq="\"rx_queues\": ${TB_RX_QUEUES:-1},"
	[ "${TB_RX_QUEUES:-}" = auto ] && rxq=
	[ -n "${TB_LCORES:-}" ] && cores="\"--lcores\", \"$TB_LCORES\""
	[ -n "${TB_USNETD:-}" ] &&
		usnetd=$'\n'"  \"usnetd\": { \"socket\": \"$TB_USNETD\", \"mode\": \"0660\" },"
	TB_CONF=$TB_DIR/portmux.json
	cat > "$TB_CONF" <<JSON
{
  "eal": [$cores, "--file-prefix", "$TB_PREFIX", "--no-pci",
          "--log-level", "pmd.net.tap:${TB_TAP_LOG:-warning}"${TB_EAL_EXTRA:+, $TB_EAL_EXTRA}],
  "ports": [
    { "name": "wan0", "device": "${TB_DEVICE:-net_af_packet0,iface=pmx-wire,qpairs=1}",
      $rxq "exception": { "type": "auto", "iface": "pmx0" } }
  ],
  "kernel": { "policy": "$policy", "allow": ["tcp:22", "icmp", "icmpv6"] },
  "control": { "socket": "$TB_SOCK", "mode": "0660", "group": null },$usnetd
  "clients": { "max": 16, "ring_size": 1024, "max_rules": 4096,
               "memif": $([ "${TB_MEMIF:-0}" = 1 ] && echo true || echo false) },
  "mbufs": 16384
}
JSON
}

# tb_start_daemon: portmuxd in the appliance namespace; waits for "ready", gives pmx0 its IP.
tb_start_daemon() {
	[ -n "${TB_CONF:-}" ] || tb_config
	TB_LOG=$TB_DIR/portmuxd.log
	ip netns exec "$TB_APP" "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_CONF" "$@" \
		> "$TB_LOG" 2>&1 < /dev/null &
	TB_DAEMON_PID=$!
	tb_on_exit "tb_stop_daemon"
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready' "$TB_LOG" && break
		kill -0 "$TB_DAEMON_PID" 2>/dev/null || { cat "$TB_LOG"; die "portmuxd exited"; }
		sleep 0.1
	done
	grep -q '^ready' "$TB_LOG" || { cat "$TB_LOG"; die "portmuxd did not become ready"; }
	ip -n "$TB_APP" addr add 198.18.0.1/24 dev pmx0
	ip -n "$TB_APP" addr add fd00::1/64 dev pmx0 nodad
	ip -n "$TB_APP" link set pmx0 up
}

# Stop the daemon by PID (SIGTERM, then SIGKILL after 10 s) and remove its runtime files.
tb_stop_daemon() {
	[ -n "${TB_DAEMON_PID:-}" ] || return 0
	kill -TERM "$TB_DAEMON_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$TB_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$TB_DAEMON_PID" 2>/dev/null
	wait "$TB_DAEMON_PID" 2>/dev/null
	TB_DAEMON_PID=
	rm -rf "/var/run/dpdk/$TB_PREFIX" /dev/hugepages/"$TB_PREFIX"map_* 2>/dev/null
}

# tb_bg NAME CMD...: start a background process in the appliance namespace (tb_bg_peer: in
# the peer's), output in $TB_DIR/NAME.log, PID in $TB_PID_NAME, killed on exit with every
# process it started (its own process group: socat's forked children, their shells).
tb_bg_in() {
	local ns=$1 name=$2; shift 2
	setsid ip netns exec "$ns" "$@" > "$TB_DIR/$name.log" 2>&1 < /dev/null &
	local pid=$!
	eval "TB_PID_$name=$pid"
	tb_on_exit "kill -KILL -- -$pid; wait $pid"
}
tb_bg() { tb_bg_in "$TB_APP" "$@"; }
tb_bg_peer() { tb_bg_in "$TB_PEER" "$@"; }

# tb_echo NAME ARGS...: portmux-echo (ARGS: its options and UDP ports) as a client of the
# testbed's daemon, in the background as tb_bg NAME; returns once it listens (1 after 10 s).
# tb_sshd: a stand-in for the kernel's sshd on TCP :22 of the appliance (answers
# "SSH-2.0-kernel"), in the background as tb_bg sshd; returns once it listens (1 after 10 s).
tb_sshd() {
	tb_bg sshd socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo SSH-2.0-kernel'
	tb_wait_for "kernel :22 listening" 100 in_app sh -c "ss -ltn | grep -q ':22 '"
}

tb_echo() {
	local name=$1; shift
	tb_bg "$name" env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/app/portmux-echo/portmux-echo" "$@"
	tb_wait_for "$name listening" 100 grep -q listening "$TB_DIR/$name.log"
}

# tb_ctl ARGS...: portmux-ctl on the testbed's socket (e.g. tb_ctl show clients)
tb_ctl() { "$PMX_BUILD/tools/portmux-ctl/portmux-ctl" -s "$TB_SOCK" "$@"; }

# tb_telemetry CMD: the daemon's rte_telemetry reply to CMD (e.g. /portmux/stats), as JSON
tb_telemetry() { echo "$1" | dpdk-telemetry.py -f "$TB_PREFIX" 2>/dev/null | jq -c ".\"$1\""; }

# pmx_req JSON: one control request over the socket, prints the reply line.
pmx_req() {
	printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$TB_SOCK"
}

# tb_wait_for DESCRIPTION TRIES CMD...: retry CMD every 0.1 s until it succeeds (bounded).
tb_wait_for() {
	local what=$1 tries=$2; shift 2
	local i
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $what" >&2
	return 1
}

# in_peer/in_app CMD...: run CMD in a namespace, in the foreground. Not for "&": $! would be
# the subshell running the function, not CMD; use tb_bg/tb_bg_peer or "ip netns exec NS CMD &".
in_peer() { ip netns exec "$TB_PEER" "$@"; }
in_app() { ip netns exec "$TB_APP" "$@"; }
# tb_udp_ask N PORT [TIMEOUT]: N datagrams from the peer to 198.18.0.1:PORT, one at a time,
# each waiting up to TIMEOUT seconds (default 2) for its answer; prints how many were answered
tb_udp_ask() {
	in_peer "$PMX_PY" - "$1" "$2" "${3:-2}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
got = 0
for i in range(int(sys.argv[1])):
    s.sendto(b"ask-%d" % i, ("198.18.0.1", int(sys.argv[2])))
    try:
        s.recv(2048)
        got += 1
    except socket.timeout:
        pass
print(got)
PY
}
