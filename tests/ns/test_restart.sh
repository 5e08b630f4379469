#!/usr/bin/env bash
# test_restart.sh - portmuxd stopped and started again under traffic, its clients kept: two ring
# clients (portmux-echo, UDP 7; portmux-httpd, TCP 8080) and a memif client (dpdk-testpmd, UDP 9,
# its session held by pmx_session.py --reattach) while the peer streams UDP to 7 and 9. Round 1 kills the daemon
# (SIGKILL), round 2 stops it (SIGTERM); each time the daemon is started again, and:
#  - portmux-echo notices (its log), executes itself again and answers; the time from the new
#    daemon's "ready" to the first echo is measured and printed (bound: 10 s);
#  - the session says hello again with its memif identity, testpmd restarts its port, and UDP 9
#    is answered again (testpmd itself restarted, counted and reported, if DPDK 22.11's memif
#    client crashed when its server died); portmux-httpd serves again (it waits for the port's
#    address);
#  - the rules are listed again, once each;
#  - nothing of the old daemon is left: every hugepage file of the prefix is the new daemon's,
#    no process maps a deleted one, the held kernel sockets of UDP 7 and 9 are the new
#    daemon's, pmx0 is a new interface, EAL's runtime files name live processes only.
# Then a second daemon on the live daemon's control socket is refused, as is a memif socket
# another daemon serves.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

BOUND_MS=10000 # "ready" to the first echo, at most
HTTPD=$PMX_BUILD/app/portmux-httpd/portmux-httpd
[ -x "$HTTPD" ] || die "$HTTPD not built (is liblwip-dev installed?)"
http_get() { in_peer curl -s -m 3 http://198.18.0.1:8080/; }
serves() { http_get | grep -q '^portmux-httpd'; }
udp_once() { # PORT TEXT: one datagram, the answer (empty if none within 1 s)
	printf '%s' "$2" | in_peer timeout 3 socat -t 1 -T 1 - "UDP:198.18.0.1:$1" 2>/dev/null
}
answers() { [ "$(udp_once "$1" "$2")" = "$2" ]; }
ifindex() { in_app cat /sys/class/net/pmx0/ifindex 2>/dev/null; }
hugefiles() { ls /dev/hugepages/ 2>/dev/null | grep -c "^${TB_PREFIX}map_"; }
client_rx() { pmx_req '{"cmd":"clients"}' | jq '[.result.clients[].rx] | add // 0'; }

# files of the prefix not mapped by the daemon; processes mapping a deleted one
unmapped_hugefiles() {
	local f n=0
	for f in /dev/hugepages/"${TB_PREFIX}"map_*; do
		[ -e "$f" ] || continue
		grep -qF " $f" "/proc/$TB_DAEMON_PID/maps" || n=$((n + 1))
	done
	echo "$n"
}
deleted_mappings() {
	grep -l "/dev/hugepages/${TB_PREFIX}map_.* (deleted)" /proc/[0-9]*/maps 2>/dev/null | wc -l
}
# processes holding a kernel socket on UDP port $1 in the appliance (ss: users:(("x",pid=N,..)))
udp_holders() {
	in_app ss -uanpH "sport = :$1" | grep -o 'pid=[0-9]*' | sort -u | tr '\n' ' '
}
# EAL runtime files named after a process (mp_socket_PID_*, fbarray_*_PID) whose PID is gone
dead_runtime_files() {
	local f pid n=0
	for f in /var/run/dpdk/"$TB_PREFIX"/*_[0-9]*; do
		[ -e "$f" ] || continue
		pid=$(basename "$f" | sed -n 's/^mp_socket_\([0-9]*\)_.*/\1/p; s/^fbarray_.*_\([0-9]*\)$/\1/p')
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

pmx_hugepages 512
tb_up
TB_MEMIF=1 tb_config
tb_start_daemon
tb_echo echo -w 30 7
tb_bg httpd env PORTMUX_SOCKET="$TB_SOCK" "$HTTPD" -w 30
tb_wait_for "portmux-httpd serving" 300 grep -q serving "$TB_DIR/httpd.log"
fifo=$TB_DIR/testpmd.fifo
mkfifo "$fifo"
exec 7<> "$fifo" # testpmd's stdin stays open between commands
tb_bg session /usr/bin/python3 "$PMX_ROOT/tests/tools/pmx_session.py" --reattach 30 \
	--on-reattach "printf 'stop\nport stop 0\nport start 0\nstart\n' > $fifo" "$TB_SOCK" \
	'{"cmd":"hello","name":"testpmd-memif","channel":"memif"}' \
	'{"cmd":"listen","proto":"udp","port":9}'
tb_wait_for "memif hello and listen" 100 sh -c "[ \$(wc -l < $TB_DIR/session.log) -ge 2 ]"
hello=$(head -1 "$TB_DIR/session.log")
memif_id=$(jq -r .result.memif.id <<< "$hello")
# testpmd is the memif client (its own EAL and memory); DPDK 22.11's net_memif connects when
# its port starts, so after a restart the session's hook restarts the port.
# start_testpmd: testpmd as the memif client of the session's last hello (started without a
# shell function in between, so that $! is testpmd's PID)
start_testpmd() {
	local hello
	hello=$(grep '"memif"' "$TB_DIR/session.log" | tail -1)
	ip netns exec "$TB_APP" dpdk-testpmd -l 0-1 --file-prefix "tp$TB_ID" --no-pci --no-huge -m 512 \
		--vdev "net_memif0,role=client,id=$(jq -r .result.memif.id <<< "$hello"),socket=$(jq -r .result.memif.socket <<< "$hello"),socket-abstract=no,secret=$(jq -r .result.memif.secret <<< "$hello")" \
		-- -i --forward-mode=5tswap --total-num-mbufs 4096 --no-mlockall \
		< "$fifo" >> "$TB_DIR/testpmd.log" 2>&1 &
	TB_PID_testpmd=$!
	echo start >&7
}
# DPDK 22.11's testpmd sometimes dies (SIGSEGV) when its memif server is killed: an upstream
# bug in the client under test's feet, not portmuxd's. supervise_testpmd restarts it as a
# supervisor would; each restart is counted and reported (TESTPMD_CRASHES).
TESTPMD_CRASHES=0
supervise_testpmd() {
	local rc
	kill -0 "$TB_PID_testpmd" 2> /dev/null && return 0
	wait "$TB_PID_testpmd"
	rc=$?
	TESTPMD_CRASHES=$((TESTPMD_CRASHES + 1))
	echo "# UPSTREAM CRASH $TESTPMD_CRASHES: dpdk-testpmd (the memif client) exited with status $rc$( ((rc > 128)) && echo " (SIG$(kill -l $((rc - 128))))"); restarted"
	grep -v '^testpmd> $' "$TB_DIR/testpmd.log" | tail -n 3 | sed 's/^/#   testpmd: /'
	start_testpmd
}
# memif_answers TEXT: UDP 9 answered by testpmd (restarted if it died), within 10 s
memif_answers() {
	local i
	for ((i = 0; i < 100; i++)); do
		supervise_testpmd
		answers 9 "$1" && return 0
		sleep 0.1
	done
	return 1
}
start_testpmd
tb_on_exit 'kill -KILL $TB_PID_testpmd; wait $TB_PID_testpmd; rm -rf /var/run/dpdk/tp$TB_ID'
tb_wait_for "the memif client answers UDP 9" 100 answers 9 first
assert_eq "portmux-echo answers UDP 7 before any restart" first "$(udp_once 7 first)"
assert_eq "testpmd (memif) answers UDP 9 before any restart" first "$(udp_once 9 first)"
assert_eq "portmux-httpd serves before any restart" 0 "$(serves; echo $?)"
first_hugefiles=$(hugefiles)
echo "# hugepage files of the prefix with the first daemon: $first_hugefiles"

# restart_round N SIGNAL: stop the daemon with SIGNAL under traffic, start it again, check
restart_round() {
	local n=$1 sig=$2 old_pid=$TB_DAEMON_PID old_if rx0 line rules t0 failed=$ASSERT_FAILED
	old_if=$(ifindex)
	tb_bg_peer "stream$n" "$PMX_PY" "$PMX_ROOT/tests/ns/udp_stream.py" 198.18.0.1 \
		"$TB_DIR/stop$n" 200 60 7,9
	rx0=$(client_rx)
	tb_wait_for "traffic flowing to both clients" 100 sh -c \
		"[ \$(printf '%s\n' '{\"cmd\":\"clients\"}' | socat -t 5 - UNIX-CONNECT:$TB_SOCK | jq '[.result.clients[].rx] | add') -ge $((rx0 + 100)) ]"
	t0=$(date +%s%N)
	kill "-$sig" "$old_pid"
	wait "$old_pid" 2>/dev/null
	TB_DAEMON_PID=
	say "round $n: portmuxd $old_pid stopped with SIG$sig mid-traffic"
	assert_eq "round $n: portmux-echo noticed and re-executes itself" 0 \
		"$(tb_wait_for "echo re-executes" 100 sh -c "[ \$(grep -c 'attaching again' $TB_DIR/echo.log) -ge $n ]"; echo $?)"
	assert_eq "round $n: the memif session noticed" 0 \
		"$(tb_wait_for "session closed" 100 sh -c "[ \$(grep -c 'closed the session' $TB_DIR/session.log) -ge $n ]"; echo $?)"
	# the clients let go of the old daemon's TAP queues and EAL files: a new one can start
	assert_eq "round $n: the old kernel interface pmx0 is gone" 0 \
		"$(tb_wait_for "old pmx0 gone" 50 sh -c "! ip -n $TB_APP link show pmx0"; echo $?)"
	echo "# round $n: the old daemon's pmx0 was gone $((($(date +%s%N) - t0) / 1000000)) ms after the signal (polled every 100 ms)"

	mv "$TB_DIR/portmuxd.log" "$TB_DIR/portmuxd.$n.log"
	tb_bg_peer "probe$n" "$PMX_PY" "$PMX_ROOT/tests/ns/first_reply.py" "$TB_DIR/portmuxd.log" \
		198.18.0.1 7 $((BOUND_MS / 1000))
	tb_start_daemon
	wait "$(eval echo "\$TB_PID_probe$n")" # bounded: BOUND_MS after ready
	line=$(cat "$TB_DIR/probe$n.log")
	echo "# round $n (SIG$sig): $line"
	assert_match "round $n: portmux-echo answers again within ${BOUND_MS} ms of ready" \
		"first reply" "$line"
	memif_answers "again$n"
	assert_eq "round $n: testpmd (memif) answers UDP 9 again" 0 $?
	assert_eq "round $n: the memif client kept its interface id" "$memif_id" \
		"$(tail -2 "$TB_DIR/session.log" | head -1 | jq .result.memif.id)"
	assert_eq "round $n: portmux-httpd serves again" 0 \
		"$(tb_wait_for "httpd serves again" 300 serves; echo $?)"
	rules=$(pmx_req '{"cmd":"rules"}' | jq -c '[.result.rules[] | "\(.proto):\(.local_port) \(.owner.name)"] | sort')
	assert_eq "round $n: the rules are listed again, once each" \
		'["tcp:8080 portmux-httpd","udp:7 portmux-echo","udp:9 testpmd-memif"]' "$rules"

	# nothing left of the old daemon
	echo "# round $n: hugepage files of the prefix: $(hugefiles) (first daemon: $first_hugefiles)"
	assert_eq "round $n: every hugepage file of the prefix is the new daemon's" 0 "$(unmapped_hugefiles)"
	assert_eq "round $n: no process maps a deleted hugepage file of the prefix" 0 "$(deleted_mappings)"
	assert_eq "round $n: the kernel sockets held for UDP 7 and 9 are the new daemon's" \
		"pid=$TB_DAEMON_PID |pid=$TB_DAEMON_PID " "$(udp_holders 7)|$(udp_holders 9)"
	assert_eq "round $n: pmx0 is a new interface, the only one" "1 yes" \
		"$(in_app ls /sys/class/net | grep -c '^pmx0$') $([ "$(ifindex)" != "$old_if" ] && echo yes)"
	assert_eq "round $n: EAL's runtime files name live processes only, one mp socket a client" \
		"0 2" "$(dead_runtime_files) $(ls /var/run/dpdk/"$TB_PREFIX" | grep -c '^mp_socket_')"

	touch "$TB_DIR/stop$n"
	tb_wait_for "stream $n done" 100 sh -c "[ \$(grep -c '^port' $TB_DIR/stream$n.log) -eq 2 ]"
	sed 's/^/# stream: /' "$TB_DIR/stream$n.log"
	# "port P: sent N received M missing K first-missing [F, ...]": echoes after the gap
	assert_eq "round $n: the stream to both ports was echoed again after the restart" 2 \
		"$(tr -d '[,' < "$TB_DIR/stream$n.log" | awk '/^port/ && $6 > $10' | wc -l)"
	if [ "$ASSERT_FAILED" != "$failed" ]; then # what the clients and the daemons said
		tail -n 4 "$TB_DIR/session.log" "$TB_DIR/echo.log" "$TB_DIR/httpd.log" | sed 's/^/# /'
		grep -i "memif\|link\|error\|fail" "$TB_DIR/testpmd.log" | tail -n 12 | sed 's/^/# testpmd: /'
		pmx_req '{"cmd":"clients"}' | jq -c '.result.clients[]' | sed 's/^/# client: /'
		grep -h "memif\|client\|stop" "$TB_DIR/portmuxd.$n.log" "$TB_DIR/portmuxd.log" |
			sed 's/^/# portmuxd: /'
	fi
}

restart_round 1 KILL
restart_round 2 TERM
echo "# dpdk-testpmd (memif client) crashes survived by restarting it: $TESTPMD_CRASHES in 2 restarts"

# a second daemon on the live one's control socket is refused, and the first keeps serving
say "a second daemon on the same socket"
cat > "$TB_DIR/second.json" <<JSON
{ "eal": ["-l", "0-1", "--file-prefix", "${TB_PREFIX}b", "--no-pci"],
  "ports": [ { "name": "null0", "device": "net_null0", "exception": { "type": "none" } } ],
  "control": { "socket": "$TB_SOCK" }, "clients": { "max": 2, "memif": true }, "mbufs": 2048 }
JSON
out=$(in_app "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_DIR/second.json" 2>&1; echo "exit $?")
rm -rf "/var/run/dpdk/${TB_PREFIX}b" /dev/hugepages/"${TB_PREFIX}b"map_*
assert_match "a second daemon on a live daemon's socket is refused" \
	"control.socket: $TB_SOCK: another portmuxd is serving it" "$out"
assert_match "... and exits 1" "exit 1" "$out"
assert_eq "the first daemon still answers on it" true "$(pmx_req '{"cmd":"stats"}' | jq .ok)"
# the same with another control socket in the same directory: the memif socket is refused
sed -i "s|\"socket\": \"$TB_SOCK\"|\"socket\": \"$TB_DIR/second.sock\"|" "$TB_DIR/second.json"
ip netns exec "$TB_APP" "$PMX_BUILD/app/portmuxd/portmuxd" -c "$TB_DIR/second.json" \
	> "$TB_DIR/second.log" 2>&1 &
second=$!
tb_on_exit "kill -KILL $second; wait $second; rm -rf /var/run/dpdk/${TB_PREFIX}b /dev/hugepages/${TB_PREFIX}bmap_*"
tb_wait_for "second daemon ready" 200 grep -q '^ready' "$TB_DIR/second.log"
reply=$(printf '%s\n' '{"cmd":"hello","channel":"memif"}' | socat -t 5 - "UNIX-CONNECT:$TB_DIR/second.sock")
assert_eq "a memif socket another daemon serves is not taken (ENODEV)" ENODEV "$(jq -r .error.code <<< "$reply")"
assert_match "... and the log says why" "another daemon serves it" "$(cat "$TB_DIR/second.log")"
kill -TERM "$second"; wait "$second"
assert_eq "testpmd (memif) of the first daemon still answers" 0 \
	"$(tb_wait_for "memif still answers" 30 answers 9 still; echo $?)"
assert_done
