#!/usr/bin/env bats
# scripts/tc-masternode: the supervisor of one masternode, on real stages
# (tc-store, tc-pool, tc-pbft, tc-p2p, tc-rpc) of a devnet datadir. Waits
# are loops with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    mn="$top/scripts/tc-masternode"
    dd="$TC_DATADIR"
}

teardown() {
    "$mn" stop --datadir "$dd" --stop-timeout 5 2>/dev/null || true
    # Whatever survived (a failed test, a killed supervisor): SIGKILL it.
    local f pid
    for f in "$dd"/run/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill -KILL "$pid" 2>/dev/null || true
    done
}

# A TCP port of 127.0.0.1 free right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A devnet ledger in $dd whose one masternode key is $dd/masternode.key, and
# a timecoin.toml that keeps tc-rpc off any fixed port. The masternode's
# endpoint, where its tc-p2p listens, is a free port too.
make_datadir() {
    make_genesis "$BATS_TEST_TMPDIR"
    jq --arg ep "127.0.0.1:$(free_port)" '.masternodes[0].endpoint = $ep' genesis.json >genesis.tmp
    mv genesis.tmp genesis.json
    tc-store --datadir "$dd" init --genesis genesis.json >/dev/null
    cp mn.key "$dd/masternode.key"
    cat >"$dd/timecoin.toml" <<'EOF'
[rpc]
listen = "127.0.0.1:0"
EOF
}

# A zombie counts as gone: in a container whose init does not reap, an
# orphan's zombie lingers after it exited.
gone() { [ ! -e "/proc/$1" ] || [[ "$(cat "/proc/$1/stat" 2>/dev/null)" =~ \)\ Z ]]; }
running() { ! gone "$1"; }
# Every process this datadir's masternode ran (supervisor and stages).
pids() { cat "$dd"/run/masternode.pid "$dd"/run/{store,pool,pbft,p2p,rpc}.pid 2>/dev/null || true; }
no_process_left() { ! pgrep -f -- "--datadir $dd" >/dev/null; }
new_pool_ready() {
    local p
    p=$(cat "$dd/run/pool.pid" 2>/dev/null) || return 1
    [ -n "$p" ] && [ "$p" != "$1" ] && running "$p" && tc-pool --datadir "$dd" ping --timeout-ms 200 >/dev/null
}

@test "start, status, stop: every stage runs and answers ping, then nothing is left" {
    make_datadir
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 0 ]
    for s in store pool pbft p2p rpc; do
        [ -s "$dd/run/$s.pid" ]
        running "$(cat "$dd/run/$s.pid")"
        grep -q "^==== .*starting tc-$s --datadir $dd run" "$dd/log/$s.log"
        tc-$s --datadir "$dd" ping --timeout-ms 1000 >/dev/null
    done
    [ -s "$dd/run/rpc.url" ]
    # tc-p2p listens on the masternode's endpoint in the genesis.
    [ "$(tc-p2p --datadir "$dd" status --json | jq -r .listen)" = \
        "$(jq -r '.masternodes[0].endpoint' genesis.json)" ]

    run "$mn" status --datadir "$dd" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .datadir <<<"$output")" = "$dd" ]
    [ "$(jq -r .supervisor <<<"$output")" = "$(cat "$dd/run/masternode.pid")" ]
    [ "$(jq -r '.stages | keys_unsorted | join(" ")' <<<"$output")" = "store pool pbft p2p rpc" ]
    [ "$(jq '[.stages[] | select(.running and .ready)] | length' <<<"$output")" -eq 5 ]
    [ "$(jq -r .stages.pool.pid <<<"$output")" = "$(cat "$dd/run/pool.pid")" ]

    run "$mn" status --datadir "$dd"
    [ "$status" -eq 0 ]
    [[ "$output" == *"pool "*" running  ready"* ]]

    local all
    all=$(pids)
    [ "$(wc -w <<<"$all")" -eq 6 ]
    run "$mn" stop --datadir "$dd"
    [ "$status" -eq 0 ]
    for p in $all; do gone "$p"; done
    no_process_left
    [ ! -e "$dd/run/masternode.pid" ]
    grep -q "stopped store" "$dd/log/masternode.log"
    # Reverse order: rpc stops first, store last.
    [ "$(grep -o 'stopping [a-z0-9]* (pid' "$dd/log/masternode.log" | cut -d' ' -f2 | tr '\n' ' ')" = \
        "rpc p2p pbft pool store " ]

    run "$mn" status --datadir "$dd" --json
    [ "$status" -eq 1 ]
    [ "$(jq -r .supervisor <<<"$output")" = null ]
    [ "$(jq '[.stages[] | select(.running or .ready)] | length' <<<"$output")" -eq 0 ]

    run "$mn" stop --datadir "$dd"
    [ "$status" -eq 0 ]
    [[ "$output" == *"nothing runs"* ]]
}

@test "start is refused without a ledger, and while a supervisor runs" {
    mkdir -p "$dd"
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 1 ]
    [[ "$output" == *"no ledger"*"tc-store"*"init"* ]]
    [ ! -e "$dd/run/masternode.pid" ]
    no_process_left

    make_datadir
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 0 ]
    local sup
    sup=$(cat "$dd/run/masternode.pid")
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 1 ]
    [[ "$output" == *"already runs"*"$sup"* ]]
    [ "$(cat "$dd/run/masternode.pid")" = "$sup" ]
    running "$sup"
    "$mn" status --datadir "$dd" >/dev/null
}

@test "a stage killed with SIGKILL is restarted, and the log says so" {
    make_datadir
    "$mn" start --datadir "$dd"
    local old
    old=$(cat "$dd/run/pool.pid")
    kill -KILL "$old"
    wait_for 150 new_pool_ready "$old"
    grep -q "pool (pid $old) exited unexpectedly with status 137.*restart #1 in 0.5 s" \
        "$dd/log/masternode.log"
    grep -q "restarted pool (pid $(cat "$dd/run/pool.pid"))" "$dd/log/masternode.log"
    [ "$(grep -c '^==== .*starting tc-pool' "$dd/log/pool.log")" -eq 2 ]
    wait_for 50 "$mn" status --datadir "$dd"

    # Killed again soon after: the backoff doubles.
    old=$(cat "$dd/run/pool.pid")
    kill -KILL "$old"
    wait_for 150 new_pool_ready "$old"
    grep -q "pool (pid $old) exited unexpectedly.*restart #2 in 1 s" "$dd/log/masternode.log"
}

@test "stop leaves no process behind, also after the supervisor was SIGKILLed" {
    make_datadir
    "$mn" start --datadir "$dd"
    local all
    all=$(pids)
    kill -KILL "$(cat "$dd/run/masternode.pid")"
    run "$mn" status --datadir "$dd"
    [ "$status" -eq 1 ]
    run "$mn" stop --datadir "$dd"
    [ "$status" -eq 0 ]
    [[ "$output" == *"no supervisor"* ]]
    for p in $all; do gone "$p"; done
    no_process_left

    # And a fresh start works on the same datadir.
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 0 ]
    all=$(pids)
    "$mn" stop --datadir "$dd"
    for p in $all; do gone "$p"; done
    no_process_left
}

@test "start right after everything was SIGKILLed: no child holds the lock" {
    make_datadir
    "$mn" start --datadir "$dd"
    # No child of the supervisor (its naps, its pings, the stages) holds
    # the lock: only the supervisor has it open.
    local sup holders
    sup=$(cat "$dd/run/masternode.pid")
    holders=$(for fd in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$dd/run/masternode.lock" ] && echo "${fd#/proc/}"
    done | cut -d/ -f1 | sort -u)
    [ "$holders" = "$sup" ]
    local all
    all=$(pids)
    kill -KILL "$sup" $all
    for p in $all; do gone "$p"; done
    # A command substitution of the killed supervisor may hold the lock a
    # moment: start waits for it, up to 5 s, when no supervisor is alive.
    (flock 9 && sleep 1) 9>>"$dd/run/masternode.lock" &
    local holder=$!
    wait_for 50 sh -c "! flock -n '$dd/run/masternode.lock' true"
    run "$mn" start --datadir "$dd"
    [ "$status" -eq 0 ]
    wait "$holder"
    all=$(pids)
    "$mn" stop --datadir "$dd"
    for p in $all; do gone "$p"; done
    no_process_left
}

@test "start fails naming a stage that does not come up, and stops the others" {
    make_datadir
    printf '[pool]\nno-such-option = 1\n' >>"$dd/timecoin.toml"
    run "$mn" start --datadir "$dd" --ready-timeout 10
    [ "$status" -eq 1 ]
    [[ "$output" == *"stage pool"*"$dd/log/pool.log"* ]]
    grep -q "no-such-option" "$dd/log/pool.log"
    [ ! -e "$dd/run/masternode.pid" ]
    no_process_left
}

@test "restart: a new supervisor and new stages" {
    make_datadir
    "$mn" start --datadir "$dd"
    local old
    old=$(pids)
    run "$mn" restart --datadir "$dd"
    [ "$status" -eq 0 ]
    for p in $old; do gone "$p"; done
    "$mn" status --datadir "$dd" >/dev/null
}

@test "usage: errors exit 2, --help names the commands and TC_MASTERNODE_STAGES" {
    run "$mn"
    [ "$status" -eq 2 ]
    run "$mn" frobnicate --datadir "$dd"
    [ "$status" -eq 2 ]
    run "$mn" start --json --datadir "$dd"
    [ "$status" -eq 2 ]
    run "$mn" status --foreground --datadir "$dd"
    [ "$status" -eq 2 ]
    run "$mn" start --ready-timeout -1 --datadir "$dd"
    [ "$status" -eq 2 ]
    TC_MASTERNODE_STAGES="store nope" run "$mn" status --datadir "$dd"
    [ "$status" -eq 2 ]
    [[ "$output" == *'unknown stage "nope"'* ]]
    run "$mn" --help
    [ "$status" -eq 0 ]
    for word in start stop status restart --foreground --ready-timeout --stop-timeout \
        TC_MASTERNODE_STAGES; do
        [[ "$output" == *"$word"* ]]
    done
}
