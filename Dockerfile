# Dockerfile - the portmux appliance image (see docs/DEPLOY.md for how to run it)
#
#   build stage:   Debian's DPDK 22.11 -dev packages, meson, gcc, lwIP (for portmux-httpd);
#                  installs into /staging
#   runtime stage: the shared libraries the binaries link (computed from the build, not
#                  guessed), the DPDK drivers EAL loads as plugins, portmuxd, portmux-ctl, the
#                  example clients, the client library and the example configs.
#
# Build:  docker build -t portmux .        (or: podman build -t portmux .)
# Extra drivers or tools:  --build-arg PMX_EXTRA_PACKAGES="librte-net-mlx5-23 dpdk-dev"
#   (on Debian 12 dpdk-dumpcap and dpdk-telemetry.py are in dpdk-dev, dpdk-devbind.py in dpdk)

ARG DEBIAN=debian:bookworm

FROM ${DEBIAN} AS build
ARG PMX_TESTS=false
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends dpdk-dev libdpdk-dev libjansson-dev libcunit1-dev meson ninja-build \
	pkg-config gcc libc6-dev liblwip-dev libnftables-dev libmicrohttpd-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
# --libdir: without dpkg-architecture (dpkg-dev) meson would pick lib64 instead of Debian's
# multiarch directory
# only what is installed is built (benchmarks and test programs are not in the image)
RUN meson setup /build /src --prefix=/usr --libdir=lib/$(gcc -print-multiarch) \
	--buildtype=release -Dtests=${PMX_TESTS} \
	&& ninja -C /build $(meson introspect --targets /build | python3 -c 'import json, os, sys; \
		print(" ".join(os.path.relpath(f, "/build") for t in json.load(sys.stdin) \
		if t["installed"] for f in t["filename"]))') \
	&& DESTDIR=/staging meson install -C /build --no-rebuild --quiet
# the Debian packages that own every shared library the installed programs link (the client
# library is in /staging itself); the runtime stage installs exactly these
RUN find /staging -type f \( -perm -u+x -o -name '*.so*' \) -exec \
	env LD_LIBRARY_PATH=/staging/usr/lib/x86_64-linux-gnu ldd {} \; 2>/dev/null \
	| awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u \
	| while read -r lib; do dpkg-query -S "$(realpath "$lib")" 2>/dev/null \
		|| dpkg-query -S "$lib" 2>/dev/null || true; done \
	| cut -d: -f1 | sort -u > /runtime-packages \
	&& echo "runtime packages: $(tr '\n' ' ' < /runtime-packages)" \
	&& grep -q '^librte-eal23$' /runtime-packages

FROM ${DEBIAN} AS runtime
# DPDK drivers are plugins (loaded from the pmds directory, invisible to ldd): the mempool
# handler, the buses, the vdevs portmux uses (af_packet, tap, virtio-user, memif, ring, null,
# pcap) and common NIC drivers. mlx5 (rdma-core) and the dpdk tools (dpdk-dumpcap and
# dpdk-telemetry.py: package dpdk-dev, with libdpdk-dev and python3) are left out of the
# default image: PMX_EXTRA_PACKAGES adds them.
ARG PMX_DRIVERS="librte-mempool-ring23 librte-mempool-stack23 librte-bus-pci23 librte-bus-vdev23 \
	librte-net-af-packet23 librte-net-tap23 librte-net-virtio23 librte-net-memif23 \
	librte-net-ring23 librte-net-null23 librte-net-pcap23 librte-net-e1000-23 \
	librte-net-ixgbe23 librte-net-i40e23 librte-net-iavf23 librte-net-ice23 \
	librte-net-vmxnet3-23 librte-net-ena23"
ARG PMX_EXTRA_PACKAGES=""
# the unprivileged user the daemon and the clients run as; clients in other containers use
# the same uid (DPDK's hugepage files and runtime directory are private to it)
ARG PMX_UID=990
COPY --from=build /runtime-packages /usr/share/portmux/runtime-packages
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $(cat /usr/share/portmux/runtime-packages) ${PMX_DRIVERS} \
	${PMX_EXTRA_PACKAGES} iproute2 && rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid ${PMX_UID} portmux \
	&& useradd --system --uid ${PMX_UID} --gid portmux --home-dir /run/portmux \
		--no-create-home --shell /usr/sbin/nologin portmux \
	&& mkdir -p /run/portmux
COPY --from=build /staging/ /
COPY tools/container-entrypoint.sh /usr/local/bin/portmux-entrypoint
# every program finds every library it links
RUN ldconfig && for f in /usr/sbin/portmuxd /usr/bin/portmux-*; do \
		! ldd "$f" | grep 'not found' || exit 1; done && /usr/sbin/portmuxd --version

# DPDK puts its runtime directory (the multi-process config, the mp socket, telemetry) under
# $RUNTIME_DIRECTORY/dpdk/<file-prefix>: next to the control socket, so that one volume
# (/run/portmux) is all a client container needs besides /dev/hugepages
ENV RUNTIME_DIRECTORY=/run/portmux
VOLUME ["/run/portmux"]
ENTRYPOINT ["/usr/local/bin/portmux-entrypoint"]
CMD ["-c", "/etc/portmux/portmux.json"]
