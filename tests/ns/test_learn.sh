#!/usr/bin/env bash
# test_learn.sh - outgoing connections of clients: a frame from a free local port is learned
# as the client's and leaves; one from a port the kernel holds or another client owns is
# dropped as spoofed; a client's frame to the appliance's own address reaches the kernel;
# the kernel cannot bind the local port of a learned connection until its client detaches.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

spoofed() { pmx_req '{"cmd":"stats"}' | jq '.result.drops.spoofed'; }
received() { grep -o 'pmx-sender' "$TB_DIR/$1.log" 2>/dev/null | wc -l; }
send_from() { # FROM-PORT TO-IP TO-PORT DST-MAC COUNT
	in_app env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/tests/pmx-sender" -l 9000 -f "$1" \
		-t "$2" -T "$3" -m "$4" -n "$5" > /dev/null
}
kernel_bind() { # PORT: bind() UDP 198.18.0.1:PORT in the appliance's kernel: ok or the errno
	in_app "$PMX_PY" -c 'import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("198.18.0.1", int(sys.argv[1])))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1"
}
n_rules() { pmx_req '{"cmd":"rules"}' | jq '.result.rules | length'; }

pmx_hugepages 512
tb_up
tb_start_daemon
peer_mac=$(in_peer cat /sys/class/net/eth0/address)
own_mac=$(in_app cat /sys/class/net/pmx0/address)
tb_bg_peer sink socat -u UDP-RECV:5000 STDOUT
tb_bg ksink socat -u UDP-RECV:5353 STDOUT        # a port the kernel holds
tb_echo echo 7
tb_wait_for "the peer's UDP 5000" 100 sh -c "ip netns exec $TB_PEER ss -lun | grep -q ':5000 '"

s0=$(spoofed)
send_from 40000 198.18.0.2 5000 "$peer_mac" 3
tb_wait_for "3 frames from a learned port at the peer" 100 sh -c "[ \$(grep -o pmx-sender $TB_DIR/sink.log | wc -l) -ge 3 ]"
assert_eq "frames from a free port are learned and leave" 3 "$(received sink)"
assert_eq "learning drops nothing" "$s0" "$(spoofed)"

send_from 5353 198.18.0.2 5000 "$peer_mac" 2
send_from 7 198.18.0.2 5000 "$peer_mac" 2
tb_wait_for "4 refused frames counted" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"stats\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.drops.spoofed') -ge $((s0 + 4)) ]"
assert_eq "a kernel port or another client's port is not learned (spoofed)" $((s0 + 4)) "$(spoofed)"
assert_eq "nothing of those reached the peer" 3 "$(received sink)"

# to the appliance's own address: delivered to the kernel, not put on the wire
send_from 40001 198.18.0.1 5353 "$own_mac" 2
tb_wait_for "2 frames at the kernel's UDP 5353" 100 sh -c "[ \$(grep -o pmx-sender $TB_DIR/ksink.log | wc -l) -ge 2 ]"
assert_eq "a client's frames to the kernel's address are delivered locally" 2 "$(received ksink)"
assert_eq "rules of detached senders are gone (only echo's listen remains)" 1 "$(n_rules)"

# a learned connection's local port is held against the kernel while its client is attached
mkfifo "$TB_DIR/hold"
exec 7<> "$TB_DIR/hold" # the holder's stdin: it detaches when this closes
ip netns exec "$TB_APP" env PORTMUX_SOCKET="$TB_SOCK" "$PMX_BUILD/tests/pmx-sender" -l 9001 \
	-f 40002 -t 198.18.0.2 -T 5000 -m "$peer_mac" -n 1 -w \
	< "$TB_DIR/hold" > "$TB_DIR/holder.log" 2>&1 7>&- &
holder=$!
tb_on_exit "kill -KILL $holder; wait $holder"
tb_wait_for "the held connection's frame at the peer" 100 sh -c "[ \$(grep -o pmx-sender $TB_DIR/sink.log | wc -l) -ge 4 ]"
assert_eq "the held connection is learned (listen + learned + echo)" 3 "$(n_rules)"
assert_eq "the kernel cannot bind a learned connection's port" EADDRINUSE "$(kernel_bind 40002)"
exec 7>&-
tb_wait_for "the holder's rules gone" 100 sh -c "[ \$(printf '%s\n' '{\"cmd\":\"rules\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '.result.rules | length') -eq 1 ]"
assert_eq "the port is the kernel's again once its client detached" ok "$(kernel_bind 40002)"
assert_done
