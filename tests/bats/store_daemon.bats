#!/usr/bin/env bats
# tc-store run, the ledger daemon, and its clients ping, submit and watch.
# Waits are loops with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_keys
    daemon_pid=""
    watch_pid=""
}

teardown() {
    for pid in $watch_pid $daemon_pid; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# A ledger in $TC_DATADIR and chain.tcx of $1 blocks (default 5).
make_chain() {
    tc-store genesis --chain bats --devnet --alloc "$alice:1000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >genesis.json
    tc-store init --genesis genesis.json >/dev/null
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks "${1:-5}" --txs-per-block 2 --to "$bob" --amount 1.5 >chain.tcx
}

height() { tc-store status --json | jq -r .height; }

# Starts the daemon in the background (extra flags as arguments) and waits
# until it answers.
start_daemon() {
    tc-store run "$@" 2>>run.err &
    daemon_pid=$!
    wait_for 100 tc-store ping --timeout-ms 200 >/dev/null
}

# Sends one request body (hex) to the daemon over a raw ZMTP 3.0 DEALER
# connection (python3 without pyzmq) and prints the reply body's bytes,
# non-printable ones as ".".
raw_request() {
    python3 - "$TC_DATADIR/run/store.sock" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("connection closed")
        b += c
    return b
def frame():
    flags = recv(1)[0]
    size = struct.unpack(">Q", recv(8))[0] if flags & 2 else recv(1)[0]
    return flags, recv(size)
s.sendall(b"\xff" + b"\0" * 8 + b"\x7f\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" * 32)
recv(64)
ready = b"\x05READY\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
s.sendall(bytes([4, len(ready)]) + ready)
frame()
body = bytes.fromhex(sys.argv[2].replace(" ", ""))
s.sendall(b"\x01\x00" + bytes([2]) + struct.pack(">Q", len(body)) + body)
while True:
    flags, data = frame()
    if not flags & 1: break
print("".join(chr(c) if 32 <= c < 127 else "." for c in data))
PY
}

alive() { kill -0 "$daemon_pid" 2>/dev/null; }
exited() { ! kill -0 "$daemon_pid" 2>/dev/null; }
lines_in() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

@test "run: ping answers pong; no daemon is exit 1 naming the endpoint" {
    make_chain 1
    run tc-store ping --timeout-ms 200
    [ "$status" -eq 1 ]
    [[ "$output" == *"no answer from ipc://$TC_DATADIR/run/store.sock"* ]]
    start_daemon
    run tc-store ping
    [ "$status" -eq 0 ]
    [ "$output" = pong ]
    [ "$(stat -c %a "$TC_DATADIR/run")" = 700 ]
}

@test "run: without a ledger it fails naming tc-store init" {
    run tc-store run
    [ "$status" -eq 1 ]
    [[ "$output" == *"tc-store init"* ]]
}

@test "submit: applies the chain; watch prints one event per block, seq = height" {
    make_chain 5
    start_daemon
    tc-store watch >watch.out 2>watch.err &
    watch_pid=$!
    wait_for 100 grep -q "connected to" watch.err
    run tc-store submit --timeout-ms 10000 <chain.tcx
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "${#lines[@]}" -eq 5 ]
    [[ "${lines[4]}" == "5 "* ]]
    [ "$(height)" -eq 5 ]
    wait_for 100 lines_in watch.out 5
    [ "$(jq -r .seq watch.out | tr '\n' ' ')" = "1 2 3 4 5 " ]
    [ "$(jq -r .height watch.out | tr '\n' ' ')" = "1 2 3 4 5 " ]
    [ "$(jq -r .hash watch.out | tail -1)" = "$(tc-store status --json | jq -r .tip_hash)" ]
    ! grep -q warning watch.err
}

@test "submit: resumes after the daemon's height; a refused block is exit 1 with the reason" {
    make_chain 3
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    # The same chain again: every block is already there, nothing to send.
    run tc-store submit <chain.tcx
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # Another chain from the same genesis: its block 4 does not follow ours.
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks 4 --txs-per-block 1 --to "$bob" --amount 2 >fork.tcx
    run tc-store submit <fork.tcx
    [ "$status" -eq 1 ]
    [[ "$output" == *"block 4: apply: "* ]]
    alive
    [ "$(height)" -eq 3 ]
    run tc-store ping
    [ "$status" -eq 0 ]
}

@test "run: SIGKILL at random points while blocks arrive loses no acknowledged block" {
    blocks=3000
    make_chain 1
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks "$blocks" --txs-per-block 1 --to "$bob" --amount 0.01 >chain.tcx
    start_daemon
    acked=0
    for round in 1 2 3 4 5; do
        tc-store submit --timeout-ms 500 <chain.tcx >acks 2>/dev/null &
        sub=$!
        # A random kill point, not a timing assertion.
        sleep "0.$((RANDOM % 5 + 1))"
        kill -KILL "$daemon_pid"
        wait "$daemon_pid" || true
        wait "$sub" || true
        # submit prints "HEIGHT HASH" only after the daemon acknowledged the
        # block, which it does only after the durable commit.
        last=$(tail -1 acks | cut -d' ' -f1)
        [ -z "$last" ] || acked=$last
        start_daemon
        echo "round $round: acknowledged $acked, height $(height)"
        [ "$(height)" -ge "$acked" ]
    done
    tc-store submit <chain.tcx >/dev/null
    [ "$(height)" -eq "$blocks" ]
    kill -TERM "$daemon_pid"
    wait "$daemon_pid"
    daemon_pid=""
    tc-store verify
}

@test "run: a request over --max-message-bytes is dropped; the daemon lives on" {
    make_chain 2
    start_daemon --max-message-bytes 64
    run tc-store submit --timeout-ms 500 <chain.tcx
    [ "$status" -eq 1 ]
    [[ "$output" == *"no answer from"* ]]
    alive
    run tc-store ping
    [ "$status" -eq 0 ]
    [ "$(height)" -eq 0 ]
}

@test "run: SIGTERM exits 0 and the ledger verifies" {
    make_chain 4
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    kill -TERM "$daemon_pid"
    wait_for 100 exited
    run wait "$daemon_pid"
    [ "$status" -eq 0 ]
    daemon_pid=""
    grep -q "stopping" run.err
    run tc-store verify
    [ "$status" -eq 0 ]
    [[ "$output" == "ok 4 "* ]]
}

@test "run: after SIGKILL a restarted daemon serves the same height" {
    make_chain 4
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
    start_daemon
    [ "$(height)" -eq 4 ]
    run tc-store verify
    [ "$status" -eq 0 ]
    run tc-store ping
    [ "$output" = pong ]
}

@test "run: malformed bodies and unknown methods are answered ok=false; status works" {
    make_chain 2
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    run raw_request "c1c2c3"
    [ "$status" -eq 0 ] && [[ "$output" == *"malformed request"* ]] || { echo "$output"; false; }
    # [1, 7, "nope", []]
    run raw_request "9401 07 a46e6f7065 90"
    [[ "$output" == *"unknown method \"nope\""* ]] || { echo "$output"; false; }
    # [1, 8, "apply", [1]]
    run raw_request "9401 08 a56170706c79 9101"
    [[ "$output" == *"apply: bad-params: "* ]] || { echo "$output"; false; }
    # [1, 9, "status", []]
    run raw_request "9401 09 a6737461747573 90"
    [[ "$output" == *"height"* && "$output" == *"tip_hash"* ]] || { echo "$output"; false; }
    alive
    run tc-store ping
    [ "$output" = pong ]
    [ "$(height)" -eq 2 ]
}

# The same chain as make_chain's, $1 blocks long, into file $2 (chaingen is
# deterministic: a shorter chain is a prefix of a longer one).
chain_of() {
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks "$1" --txs-per-block 2 --to "$bob" --amount 1.5 >"$2"
}

seqs() { jq -r .seq "$1" | tr '\n' ' '; }

@test "submit --batch: blocks go in batches, each acknowledged; events stay one per block" {
    make_chain 7
    start_daemon
    tc-store watch >watch.out 2>watch.err &
    watch_pid=$!
    wait_for 100 grep -q "connected to" watch.err
    run tc-store submit --batch 3 <chain.tcx
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "${#lines[@]}" -eq 7 ]
    [ "$(cut -d' ' -f1 <<<"$output" | tr '\n' ' ')" = "1 2 3 4 5 6 7 " ]
    [ "$(height)" -eq 7 ]
    wait_for 100 lines_in watch.out 7
    [ "$(seqs watch.out)" = "1 2 3 4 5 6 7 " ]
    run tc-store submit --batch 0 <chain.tcx
    [ "$status" -eq 2 ]
}

@test "submit: a daemon's --max-batch below the client's batch is refused with the reason" {
    make_chain 4
    start_daemon --max-batch 2
    run tc-store submit --batch 4 <chain.tcx
    [ "$status" -eq 1 ]
    [[ "$output" == *"blocks 1..4: apply: bad-params: a batch of 4 blocks exceeds --max-batch 2"* ]]
    [ "$(height)" -eq 0 ]
    tc-store submit --batch 2 <chain.tcx >/dev/null
    [ "$(height)" -eq 4 ]
}

@test "watch --since: replays the events after SEQ in order, then follows" {
    make_chain 5
    chain_of 8 chain8.tcx
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    tc-store watch --since 2 >watch.out 2>watch.err &
    watch_pid=$!
    wait_for 100 lines_in watch.out 3
    [ "$(seqs watch.out)" = "3 4 5 " ]
    tc-store submit <chain8.tcx >/dev/null
    wait_for 100 lines_in watch.out 6
    [ "$(seqs watch.out)" = "3 4 5 6 7 8 " ]
    [ "$(jq -r .hash watch.out | tail -1)" = "$(tc-store status --json | jq -r .tip_hash)" ]
    ! grep -q warning watch.err
}

@test "watch: after a daemon restart it prints the blocks committed meanwhile, in order" {
    make_chain 4
    chain_of 9 chain9.tcx
    start_daemon
    tc-store watch >watch.out 2>watch.err &
    watch_pid=$!
    wait_for 100 grep -q "connected to" watch.err
    tc-store submit <chain.tcx >/dev/null
    wait_for 100 lines_in watch.out 4
    kill -TERM "$daemon_pid"
    wait "$daemon_pid"
    # Blocks 5..9 arrive while the daemon is down: no event is published.
    tc-store import <chain9.tcx >/dev/null
    start_daemon
    # The watcher reconnects and asks since 4; seq is the height, so the
    # restart is no gap of its own.
    wait_for 100 lines_in watch.out 9
    [ "$(seqs watch.out)" = "1 2 3 4 5 6 7 8 9 " ]
    [ "$(jq -r .height watch.out | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 " ]
    ! grep -q warning watch.err
}

@test "watch --since further back than --event-retention: exit 1, gap beyond retention" {
    make_chain 5
    start_daemon --event-retention 2
    tc-store submit <chain.tcx >/dev/null
    run timeout 20 tc-store watch --since 1
    [ "$status" -eq 1 ]
    [[ "$output" == *"since: gap-beyond-retention: seq 1 is 4 events behind the tip 5"* ]]
    run timeout 20 tc-store watch --since 9
    [ "$status" -eq 1 ]
    [[ "$output" == *"ahead of the tip 5"* ]]
}

@test "status --daemon: asks the daemon; with the daemon down it reads the ledger" {
    make_chain 3
    start_daemon
    tc-store submit <chain.tcx >/dev/null
    run tc-store status --daemon --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .source <<<"$output")" = daemon ]
    [ "$(jq -r .height <<<"$output")" = 3 ]
    [ "$(jq -c 'del(.source)' <<<"$output")" = "$(tc-store status --json | jq -c 'del(.source)')" ]
    run tc-store status --daemon
    [[ "$output" == *"source         daemon"* ]]
    kill -TERM "$daemon_pid"
    wait "$daemon_pid"
    daemon_pid=""
    tc-store status --daemon --json --timeout-ms 200 >status.json 2>status.err
    [ "$(jq -r .source status.json)" = ledger ]
    [ "$(jq -r .height status.json)" = 3 ]
    grep -q "no answer from ipc://$TC_DATADIR/run/store.sock; reading the ledger" status.err
    [ "$(tc-store status --json | jq -r .source)" = ledger ]
}

# The port the daemon's metrics server took (it logs it on start).
metrics_port() { grep -o 'metrics on .*(port [0-9]*)' run.err | grep -o '[0-9]*)$' | tr -d ')'; }
metric() { curl -sf "http://127.0.0.1:$(metrics_port)/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }

@test "run --metrics-listen: Prometheus text over HTTP that follows the daemon" {
    make_chain 4
    start_daemon --metrics-listen 127.0.0.1:0
    [ -n "$(metrics_port)" ]
    run curl -sfi "http://127.0.0.1:$(metrics_port)/metrics"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Content-Type: text/plain; version=0.0.4"* ]]
    [[ "$output" == *"# TYPE tc_store_apply_seconds histogram"* ]]
    metric_is tc_store_height 0
    tc-store submit --batch 2 <chain.tcx >/dev/null
    # [1, 8, "apply", [1]]: refused, counted as an apply error.
    raw_request "9401 08 a56170706c79 9101" >/dev/null
    wait_for 100 metric_is tc_store_height 4
    metric_is tc_store_apply_errors_total 1
    metric_is tc_store_blocks_applied_total 4
    metric_is tc_store_apply_seconds_count 2
    metric_is 'tc_store_apply_seconds_bucket{le="+Inf"}' 2
    metric_is 'tc_store_requests_total{method="apply"}' 3
    [ "$(metric tc_store_map_size_bytes)" -gt 0 ]
    tc-store ping >/dev/null
    wait_for 100 metric_is 'tc_store_requests_total{method="ping"}' 2
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(metrics_port)/other"
    [ "$output" = 404 ]
    # SIGTERM stops the HTTP thread too.
    kill -TERM "$daemon_pid"
    wait_for 100 exited
    run wait "$daemon_pid"
    [ "$status" -eq 0 ]
    daemon_pid=""
}

@test "run --metrics-listen: a bad address is a usage error, a taken port exit 1" {
    make_chain 1
    run tc-store run --metrics-listen nonsense
    [ "$status" -eq 2 ]
    [[ "$output" == *"--metrics-listen nonsense: expected HOST:PORT"* ]]
    start_daemon --metrics-listen 127.0.0.1:0
    port=$(metrics_port)
    tc-store --datadir other init --genesis genesis.json >/dev/null
    run timeout 20 tc-store --datadir other run --metrics-listen "127.0.0.1:$port"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--metrics-listen 127.0.0.1:$port: cannot listen there"* ]]
}
