#!/usr/bin/env bash
# demo.sh - the README's first command: builds portmux and runs it on a small testbed
# (namespaces + veth), with the kernel and a userspace client sharing 198.18.0.1:
#   ping and TCP :22 answered by the kernel, UDP :7 answered by portmux-echo.
set -u
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, hugepages)"
trap tb_cleanup EXIT

say "dependencies and build"
pmx_install_deps
pmx_build

say "testbed: peer 198.18.0.2 <-veth-> [portmuxd on pmx-wire] <-tap pmx0-> kernel 198.18.0.1"
pmx_hugepages 512
tb_up
tb_config firewall # the daemon's default: the kernel gets SSH, ping and its own replies
tb_start_daemon
sed 's/^/  portmuxd | /' "$TB_LOG" | grep -v '^  portmuxd | EAL' 
tb_bg sshd socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo SSH-2.0-kernel-on-198.18.0.1'
tb_echo echo 7 || { cat "$TB_DIR/echo.log"; exit 1; }
tb_wait_for "kernel :22" 100 in_app sh -c "ss -ltn | grep -q ':22 '"
grep listening "$TB_DIR/echo.log" | sed 's/^/  /'

pmx_req '{"cmd":"stats"}' | jq -r '"  kernel policy: \(.result.kernel_policy) (allow tcp:22 icmp icmpv6)"'

say "from the peer: ping 198.18.0.1 (the kernel answers)"
in_peer ping -c 3 -i 0.2 -W 2 198.18.0.1 | sed 's/^/  /'

say "from the peer: TCP 198.18.0.1:22 (a kernel listener answers)"
echo "  $(in_peer timeout 10 socat -t 5 -T 5 - TCP:198.18.0.1:22 < /dev/null)"

say "from the peer: UDP 198.18.0.1:7 (portmux-echo, a userspace client, answers)"
for i in 1 2 3; do
	reply=$(printf 'hello %s' "$i" | in_peer timeout 8 socat -t 5 -T 5 - UDP:198.18.0.1:7)
	echo "  sent 'hello $i' -> got '$reply'"
done

say "switch rules and stats"
pmx_req '{"cmd":"rules"}' | jq -r '.result.rules[] |
	"  rule \(.rule_id): \(.proto) \(.local_ip):\(.local_port) -> \(.owner.name) (client \(.owner.client_id)), \(.hits) hits"'
pmx_req '{"cmd":"stats"}' | jq -r '.result |
	(.ports[] | "  port \(.name): rx \(.rx), to clients \(.to_clients), to kernel \(.to_kernel), from kernel \(.from_kernel), from clients \(.from_clients), tx wire \(.tx_wire)"),
	(.clients[] | "  client \(.client_id) \(.name): rx \(.rx), tx \(.tx), ring_full \(.ring_full), spoofed \(.spoofed)"),
	"  drops: \(.drops | to_entries | map("\(.key)=\(.value)") | join(" "))",
	"  mempool: \(.mempool.in_use) of \(.mempool.size) mbufs in use; flow table: \(.flow_table.rules) rule(s)"'
kill -TERM "$TB_PID_echo"
tb_wait_for "echo exit" 50 grep -q echoed "$TB_DIR/echo.log"
grep echoed "$TB_DIR/echo.log" | sed 's/^/  /'
say "done: cleaning up the testbed"
