#!/usr/bin/env bash
# container-test.sh - builds the Dockerfile without a Docker engine and runs what the image
# holds: podman + a debian:bookworm base made locally by debootstrap, `podman build --isolation
# chroot`, then `podman run` (runtime runc; where even that cannot start containers, the image's
# root filesystem via `podman image mount` + chroot): --version of the programs, the runtime
# stage's contents, and the demo scenario (kernel and portmux-echo sharing one IP) with portmuxd
# and the client each in a container of the image, as the unprivileged user.
#
# Usage: tools/container-test.sh [--committed | --context DIR] [--no-demo] [--clean]
#   --committed  build from `git archive HEAD` instead of the working tree
#   --context    build from DIR (a source tree with the Dockerfile)
#   --no-demo    stop after the build and the image checks
#   --clean      also remove the images (the result, the build stage, the base) and the
#                debootstrap cache at the end
# Needs root and network (Debian's mirror); minutes on first run, the layers are cached after.
set -u
source "$(dirname "$0")/lib.sh"
source "$PMX_ROOT/tests/ns/assert.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (podman storage, chroot, namespaces, hugepages)"

COMMITTED=0 DEMO=1 CLEAN=0 CTX=$PMX_ROOT
while [ $# -gt 0 ]; do
	a=$1; shift
	case "$a" in
	--committed) COMMITTED=1 ;;
	--context) CTX=$(realpath "${1:?--context needs a directory}"); shift ;;
	--no-demo) DEMO=0 ;;
	--clean) CLEAN=1 ;;
	*) die "usage: $0 [--committed | --context DIR] [--no-demo] [--clean]" ;;
	esac
done

IMG=localhost/portmux:test
IMG_BUILD=localhost/portmux-build:test
BASE=docker.io/library/debian:bookworm
CACHE=/var/tmp/portmux-container   # the debootstrap tree, kept between runs unless --clean
PMX_UID=990                         # the image's portmux user (Dockerfile ARG PMX_UID)
W=$(mktemp -d /tmp/portmux-ct.XXXXXX)
trap tb_cleanup EXIT
tb_on_exit "rm -rf $W"
if [ $CLEAN -eq 1 ]; then
	tb_on_exit "podman rmi -f $IMG $IMG_BUILD $BASE; rm -rf $CACHE; podman image prune -f"
fi

say "packages: podman, runc, debootstrap"
for p in podman runc debootstrap jq socat iproute2; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" && continue
	apt-get update -q > /dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		podman runc debootstrap jq socat iproute2 > /dev/null || die "apt-get install failed"
	break
done
podman --version

say "base image $BASE (debootstrap --variant=minbase bookworm, imported)"
if podman image exists "$BASE"; then
	echo "  present: $(podman image inspect --format '{{.Id}} {{.Created}}' "$BASE" | cut -c1-12,65-)"
else
	if [ ! -d "$CACHE/rootfs" ]; then
		rm -rf "$CACHE/rootfs.partial"
		mkdir -p "$CACHE"
		debootstrap --variant=minbase bookworm "$CACHE/rootfs.partial" http://deb.debian.org/debian \
			> "$CACHE/debootstrap.log" 2>&1 ||
			{ tail -20 "$CACHE/debootstrap.log"; die "debootstrap failed"; }
		# the sources of the official image: the release, its updates and security
		rm -f "$CACHE/rootfs.partial/etc/apt/sources.list"
		cat > "$CACHE/rootfs.partial/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
		rm -rf "$CACHE"/rootfs.partial/var/cache/apt/archives/*.deb \
			"$CACHE"/rootfs.partial/var/lib/apt/lists/*
		mv "$CACHE/rootfs.partial" "$CACHE/rootfs"
	fi
	tar -C "$CACHE/rootfs" -c . | podman import - "$BASE" > /dev/null || die "podman import failed"
	echo "  imported: $(du -sh "$CACHE/rootfs" | cut -f1) root filesystem"
fi

say "podman build --isolation chroot -t $IMG"
if [ $COMMITTED -eq 1 ]; then
	CTX=$W/context
	mkdir -p "$CTX"
	git -C "$PMX_ROOT" archive HEAD | tar -x -C "$CTX"
	echo "  context: git archive HEAD ($(git -C "$PMX_ROOT" log --oneline -1 | cut -c1-60))"
else
	echo "  context: $CTX"
fi
start=$SECONDS
# the build stage gets a tag of its own: it keeps its layers (the -dev packages) as the cache of
# the next run, while the untagged build stages of earlier runs are pruned
podman build --isolation chroot --target build -t "$IMG_BUILD" -f "$CTX/Dockerfile" "$CTX" \
	> "$W/build.log" 2>&1 &&
	podman build --isolation chroot -t "$IMG" -f "$CTX/Dockerfile" "$CTX" >> "$W/build.log" 2>&1
rc=$?
podman image prune -f > /dev/null 2>&1
grep -E '^(\[[0-9]/[0-9]\] )?(STEP|COMMIT)|^(runtime packages:|portmuxd [0-9])' "$W/build.log" |
	sed 's/^/  /' | cut -c1-150
if [ $rc -ne 0 ]; then
	tail -30 "$W/build.log"
	die "podman build failed (exit $rc)"
fi
echo "  built in $((SECONDS - start)) s; image $(podman image inspect --format '{{.Size}}' "$IMG" |
	awk '{ printf "%.0f MB", $1 / 1e6 }')"

# podman run: crun (podman's default runtime) refuses this kind of machine's cgroups (v1
# hierarchies plus a cgroup2 mount holding the hugetlb controller: "hybrid mode"), runc takes
# them; and the sandbox's hard rlimits (nofile 20000) are below podman's defaults (1048576), so
# containers get limits below them. Where even that fails, the image's root filesystem is run
# from `podman image mount` + chroot instead, emulating what `docker run` does.
RUN=(podman --runtime "$(command -v runc)" run --rm --ulimit nofile=4096:4096
	--ulimit nproc=4096:4096)
CT_RUN=0
if out=$("${RUN[@]}" "$IMG" --version 2>&1) && [ "${out##*$'\n'}" = "portmuxd ${out##* }" ]; then
	CT_RUN=1
	say "the image's programs (podman run, runtime runc)"
else
	echo "  podman run: ${out##*$'\n'}"
	say "the image's programs (podman image mount + chroot: podman run cannot start containers)"
fi
M=$(podman image mount "$IMG") || die "podman image mount failed"
mkdir -p "$W/run" "$W/huge"
tb_on_exit "podman image unmount $IMG"
# img_run NAME "SETPRIV-ARGS" CMD...: run CMD from the image as `docker run` would: its own
# mount namespace, the image as root filesystem, the image's environment and entrypoint, /proc
# /sys /dev from the host, the testbed's hugetlbfs on /dev/hugepages, $W/run on /run/portmux
# (the shared volume), the test config on /etc/portmux/portmux.json, the user and capability
# bounding set of the `docker run` options given as setpriv arguments; in the appliance's
# network namespace, in the background (log $TB_DIR/NAME.log, PID $TB_PID_NAME)
# The image's environment is in $W/env (read by the helper inside the mount namespace).
IMG_SH='
	m=$1; w=$2; priv=$3; shift 3
	mount --rbind /proc "$m/proc" && mount --rbind /sys "$m/sys" &&
	mount --rbind /dev "$m/dev" && mount -t tmpfs tmpfs "$m/tmp" || exit 111
	if [ -e "$w/portmux.json" ]; then
		mount --bind "$w/huge" "$m/dev/hugepages" && mount --bind "$w/run" "$m/run/portmux" &&
		mount --bind "$w/portmux.json" "$m/etc/portmux/portmux.json" || exit 111
	fi
	exec env -i $(cat "$w/env") chroot "$m" setpriv $priv -- \
		/usr/local/bin/portmux-entrypoint "$@"'
# With podman run (CT_RUN=1), the same as a container of its own in the appliance's network
# namespace (as `--network host` on an appliance), the volumes above, and the `docker run`
# options of ARGS_NAME.
img_run() {
	local name=$1 priv=$2; shift 2
	if [ $CT_RUN -eq 1 ]; then
		local -n args=${priv}_RUN
		# podman itself runs in the host's namespaces (ip netns exec would hide the
		# cgroup mounts runc needs); the container joins the appliance's network namespace
		"${RUN[@]}" --name "pmxct-$name-$$" --network "ns:/run/netns/$TB_APP" \
			-v "$W/huge:/dev/hugepages" -v "$W/run:/run/portmux" \
			-v "$W/portmux.json:/etc/portmux/portmux.json:ro" "${args[@]}" "$IMG" "$@" \
			> "$TB_DIR/$name.log" 2>&1 < /dev/null &
		eval "TB_PID_$name=$!"
		tb_on_exit "kill -KILL $!; wait $!; podman rm -f pmxct-$name-$$ > /dev/null 2>&1"
		return
	fi
	local -n p=$priv
	tb_bg "$name" unshare -m --propagation private sh -c "$IMG_SH" sh "$M" "$W" "$p" "$@"
}
# img_exec ARGS_NAME CMD...: the same in the foreground, in the host's network namespace
img_exec() {
	local priv=$1; shift
	if [ $CT_RUN -eq 1 ]; then
		local -n args=${priv}_RUN
		"${RUN[@]}" "${args[@]}" "$IMG" "$@"
		return
	fi
	local -n p=$priv
	unshare -m --propagation private sh -c "$IMG_SH" sh "$M" "$W" "$p" "$@"
}
# the process a container runs (podman's client is what tb_bg started)
img_pid() {
	if [ $CT_RUN -eq 1 ]; then
		podman inspect -f '{{.State.Pid}}' "pmxct-$1-$$"
	else
		local -n pid=TB_PID_$1
		echo "$pid"
	fi
}
# docker run --cap-drop ALL --cap-add NET_ADMIN,NET_RAW,IPC_LOCK,NET_BIND_SERVICE \
#            --cap-add SETUID,SETGID,SETPCAP,CHOWN
DAEMON_PRIV="--inh-caps=-all --bounding-set=-all,+net_admin,+net_raw,+ipc_lock,+net_bind_service"
DAEMON_PRIV="$DAEMON_PRIV,+setuid,+setgid,+setpcap,+chown"
# docker run --user 990:990 (Docker's default capability set; a non-root user gets none)
DOCKER_DEFAULT=+chown,+dac_override,+fsetid,+fowner,+mknod,+net_raw,+setgid,+setuid,+setfcap
DOCKER_DEFAULT=$DOCKER_DEFAULT,+setpcap,+net_bind_service,+sys_chroot,+kill,+audit_write
CLIENT_PRIV="--reuid=$PMX_UID --regid=$PMX_UID --clear-groups --inh-caps=-all"
CLIENT_PRIV="$CLIENT_PRIV --bounding-set=-all,$DOCKER_DEFAULT"
# the same as podman run options
DAEMON_PRIV_RUN=(--cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW --cap-add IPC_LOCK
	--cap-add NET_BIND_SERVICE --cap-add SETUID --cap-add SETGID --cap-add SETPCAP
	--cap-add CHOWN --device /dev/net/tun)
CLIENT_PRIV_RUN=(--user "$PMX_UID:$PMX_UID")

podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMG" | grep . > "$W/env"
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$PMX_ROOT/meson.build" | head -1)
out=$(chroot "$M" /usr/sbin/portmuxd --version 2>&1)
echo "  $ portmuxd --version: $out"
assert_eq "portmuxd --version in the image" "portmuxd $version" "$out"
out=$(img_exec DAEMON_PRIV --version 2>&1)
assert_eq "the entrypoint runs portmuxd with the options given" "portmuxd $version" "$out"
out=$(chroot "$M" /usr/bin/portmux-echo -V 2>&1)
assert_eq "portmux-echo -V in the image" "portmux-echo $version" "$out"
if [ -f "$CTX/tools/portmux-ctl/meson.build" ]; then
	out=$(chroot "$M" /usr/bin/portmux-ctl --version 2>&1)
	echo "  $ portmux-ctl --version: $out"
	assert_eq "portmux-ctl --version in the image" "portmux-ctl $version" "$out"
fi
echo "  programs: $(cd "$M" && ls usr/sbin/portmuxd usr/bin/portmux-* | tr '\n' ' ')"
echo "  configs:  $(cd "$M" && ls etc/portmux/ usr/share/doc/portmux/examples/ 2>/dev/null |
	tr '\n' ' ')"
assert_eq "the example config is in /etc/portmux" yes \
	"$([ -f "$M/etc/portmux/portmux.json" ] && echo yes)"
missing=$(chroot "$M" sh -c 'for f in /usr/sbin/portmuxd /usr/bin/portmux-* \
	/usr/lib/x86_64-linux-gnu/libportmux-client.so.0; do ldd "$f" | grep "not found"; done')
assert_eq "every shared library the programs link is in the image" "" "$missing"
dev=$(chroot "$M" dpkg-query -W -f '${Package}\n' |
	grep -E -e '-dev$' -e '^(gcc|gcc-[0-9]+|cpp|cpp-[0-9]+|meson|ninja-build|pkgconf)$' | tr '\n' ' ')
assert_eq "the runtime stage has no compiler and no -dev package" "" "$dev"
drivers=$(ls "$M"/usr/lib/x86_64-linux-gnu/dpdk/pmds-*/ | grep -c '\.so\.[0-9]*$')
echo "  DPDK driver plugins in the image: $drivers"
assert_eq "the mempool (ring, stack), af_packet and tap drivers are there" 4 \
	"$(ls "$M"/usr/lib/x86_64-linux-gnu/dpdk/pmds-*/ |
	grep -c -E '^librte_(mempool_ring|mempool_stack|net_af_packet|net_tap)\.so\.[0-9]+$')"
podman image inspect --format '  user: {{.Config.User}}  entrypoint: {{.Config.Entrypoint}}
  cmd: {{.Config.Cmd}}  env: {{.Config.Env}}  volumes: {{.Config.Volumes}}' "$IMG"

if [ $DEMO -eq 0 ]; then
	assert_done
fi

say "demo from the image: peer <-veth-> [portmuxd (image)] <-tap-> kernel, portmux-echo (image)"
pmx_hugepages 512
tb_up
# hugetlbfs for the image's user, as DEPLOY.md tells operators to mount it
# (size= makes the mount account its pages: df shows what portmuxd holds)
mount -t hugetlbfs -o "uid=$PMX_UID,gid=$PMX_UID,mode=0770,size=1G" nodev "$W/huge" ||
	die "hugetlbfs mount"
tb_on_exit "umount $W/huge"
cat > "$W/portmux.json" <<JSON
{
  "eal": ["-l", "0-1", "--file-prefix", "$TB_PREFIX", "--no-pci",
          "--log-level", "pmd.net.tap:warning"],
  "ports": [
    { "name": "wan0", "device": "net_af_packet0,iface=pmx-wire,qpairs=1",
      "exception": { "type": "auto", "iface": "pmx0" } }
  ],
  "kernel": { "policy": "pass", "allow": [] },
  "control": { "socket": "/run/portmux/portmux.sock", "mode": "0660", "group": null },
  "clients": { "max": 16, "ring_size": 1024, "max_rules": 4096, "low_ports": ["udp:7"] },
  "mbufs": 16384
}
JSON
TB_SOCK=$W/run/portmux.sock   # the volume, seen from the host
img_run daemon DAEMON_PRIV
DPID=$TB_PID_daemon
tb_on_exit "kill -TERM $DPID; tb_wait_for 'portmuxd exit' 50 sh -c '! kill -0 $DPID'"
if ! tb_wait_for "portmuxd ready" 200 grep -q '^ready' "$TB_DIR/daemon.log"; then
	sed 's/^/  portmuxd | /' "$TB_DIR/daemon.log"
	die "portmuxd from the image did not start"
fi
grep -v -e '^EAL: \(Detected\|Selected\|VFIO\|Multi\)' -e qdisc -e tap_nl -e 'rte flow' \
	"$TB_DIR/daemon.log" | sed 's/^/  portmuxd | /'
in_app ip addr add 198.18.0.1/24 dev pmx0
in_app ip link set pmx0 up
status=$(grep -E '^(Uid|CapEff|NoNewPrivs)' "/proc/$(img_pid daemon)/status" | tr -s '\t' ' ' |
	tr '\n' ' ')
echo "  portmuxd process: $status"
assert_match "portmuxd runs as the unprivileged user" "Uid: $PMX_UID $PMX_UID" "$status"
assert_match "with CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK, CAP_NET_BIND_SERVICE only" \
	"CapEff: 0000000000007400" "$status"
echo "  hugepage memory held by portmuxd: $(df -k --output=used "$W/huge" | tail -1 |
	awk '{ printf "%.0f MB", $1 / 1024 }')"
echo "  /run/portmux (the shared volume): $(cd "$W/run" && find . -maxdepth 3 | sort | tr '\n' ' ')"
assert_eq "DPDK's runtime directory is in the shared volume" yes \
	"$([ -d "$W/run/dpdk/$TB_PREFIX" ] && echo yes)"

tb_sshd
img_run echo CLIENT_PRIV portmux-echo 7
tb_wait_for "portmux-echo listening" 100 grep -q listening "$TB_DIR/echo.log" ||
	{ sed 's/^/  portmux-echo | /' "$TB_DIR/echo.log"; die "portmux-echo (image) did not attach"; }
grep listening "$TB_DIR/echo.log" | sed 's/^/  portmux-echo | /'
assert_match "portmux-echo runs as the unprivileged user, no capabilities" \
	"Uid: $PMX_UID $PMX_UID $PMX_UID $PMX_UID CapEff: 0000000000000000" \
	"$(grep -E '^(Uid|CapEff)' "/proc/$(img_pid echo)/status" | tr -s '\t' ' ' | tr '\n' ' ')"

# generous timeouts: the machine is shared with other busy-polling DPDK processes
tb_wait_for "the peer reaches 198.18.0.1 (ARP through the switch)" 20 \
	in_peer ping -c 1 -W 3 198.18.0.1
out=$(in_peer ping -c 3 -i 0.5 -W 5 198.18.0.1 | grep transmitted)
echo "  ping 198.18.0.1: $out"
assert_match "ping answered by the kernel" "3 received" "$out"
out=$(in_peer timeout 10 socat -T 8 - TCP:198.18.0.1:22 < /dev/null)
echo "  TCP 198.18.0.1:22: $out"
assert_eq "TCP :22 answered by the kernel" "SSH-2.0-kernel" "$out"
ok=0
for i in 1 2 3; do
	# UDP: a datagram lost on this overloaded machine is sent again (3 tries at most)
	for try in 1 2 3; do
		out=$(printf 'hello %s' "$i" | in_peer timeout 8 socat -T 5 - UDP:198.18.0.1:7)
		[ "$out" = "hello $i" ] && break
	done
	echo "  UDP 198.18.0.1:7: sent 'hello $i' -> got '$out' (try $try)"
	[ "$out" = "hello $i" ] && ok=$((ok + 1))
done
assert_eq "UDP :7 echoed by portmux-echo from the image" 3 "$ok"
stats=$(pmx_req '{"cmd":"stats"}')
echo "  stats: $(jq -c '.result.ports[0] | {rx, to_clients, to_kernel, tx_wire}' <<< "$stats")"
assert_eq "the switch counted 3 frames to the client" true \
	"$(jq -r '.result.ports[0].to_clients >= 3' <<< "$stats")"
if [ -f "$CTX/tools/portmux-ctl/meson.build" ]; then
	img_run ctl CLIENT_PRIV portmux-ctl show port stats all
	tb_wait_for "portmux-ctl exit" 50 sh -c "! kill -0 $TB_PID_ctl"
	sed 's/^/  portmux-ctl | /' "$TB_DIR/ctl.log" | head -12
	assert_match "portmux-ctl from the image talks to the daemon" "wan0" "$(cat "$TB_DIR/ctl.log")"
fi
kill -TERM "$TB_PID_echo"
tb_wait_for "portmux-echo exit" 50 grep -q echoed "$TB_DIR/echo.log"
grep echoed "$TB_DIR/echo.log" | sed 's/^/  portmux-echo | /'
kill -TERM "$DPID"
tb_wait_for "portmuxd exit" 100 sh -c "! kill -0 $DPID"
assert_eq "portmuxd stops on SIGTERM" yes "$(kill -0 "$DPID" 2>/dev/null || echo yes)"
assert_done
