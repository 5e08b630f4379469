#!/usr/bin/env bash
# test_queues.sh - a client with 4 queue pairs: its flows are spread over the queues by a
# symmetric flow hash, every flow stays on one queue pair, every datagram is answered.
set -u
source "$(dirname "$0")/../../tools/lib.sh"
source "$(dirname "$0")/assert.sh"
trap tb_cleanup EXIT

pmx_hugepages 512
tb_up
tb_start_daemon
tb_echo echo -q 4 7
assert_eq "hello gave 4 queue pairs" 4 "$(pmx_req '{"cmd":"clients"}' | jq '.result.clients[0].queues')"

# 48 flows (source ports), 3 numbered datagrams each, every reply checked
answered=$(in_peer /usr/bin/python3 - <<'PY'
import socket
socks = []
for i in range(48):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.0.2", 20000 + i))
    s.settimeout(5)
    socks.append(s)
ok = 0
for rnd in range(3):
    for i, s in enumerate(socks):
        s.sendto(b"flow-%d-%d" % (i, rnd), ("198.18.0.1", 7))
    for i, s in enumerate(socks):
        try:
            if s.recv(100) == b"flow-%d-%d" % (i, rnd):
                ok += 1
        except socket.timeout:
            pass
print(ok)
PY
)
assert_eq "all 144 datagrams of 48 flows answered" 144 "$answered"
kill -TERM "$TB_PID_echo"
tb_wait_for "echo exit" 100 grep -q "per queue" "$TB_DIR/echo.log"
line=$(grep "per queue" "$TB_DIR/echo.log")
echo "$line"
busy=$(sed 's/.*per queue:\([0-9 ]*\);.*/\1/' <<< "$line" | tr ' ' '\n' | awk '$1 > 0' | wc -l)
assert_eq "flows spread over at least 3 of the 4 queues" 1 $((busy >= 3))
assert_match "no flow seen on two queues" "flows seen on two queues: 0" "$line"
assert_done
