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

# Runs CMD until it succeeds, for at most $1 tenths of a second.
wait_for() {
    local tenths=$1 i
    shift
    for ((i = 0; i < tenths; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    echo "timed out waiting for: $*"
    return 1
}

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

@test "submit: applies the chain; watch prints one event per block, seq 1..N" {
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
    [[ "$output" == *"apply: params must be"* ]] || { echo "$output"; false; }
    # [1, 9, "status", []]
    run raw_request "9401 09 a6737461747573 90"
    [[ "$output" == *"height"* && "$output" == *"tip_hash"* ]] || { echo "$output"; false; }
    alive
    run tc-store ping
    [ "$output" = pong ]
    [ "$(height)" -eq 2 ]
}
