#!/usr/bin/env bats
# tc-pbft run, the consensus daemon, with n = 1 beside a real tc-store run
# and tc-pool run: it commits alone, proposes nothing while idle, keeps its
# votes across a restart and answers its clients. Waits are loops with a
# deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_keys
    pids=()
    tc-store genesis --chain bats --devnet --alloc "$alice:1000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >genesis.json
    tc-store init --genesis genesis.json >/dev/null
    cp mn.key "$TC_DATADIR/masternode.key"
    coin=$(tc-store utxos "$alice" | cut -d' ' -f1)
}

teardown() {
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

start() {
    local stage=$1
    shift
    "tc-$stage" run "$@" 2>>"$stage.err" &
    pids+=($!)
    eval "${stage}_pid=$!"
    wait_for 100 "tc-$stage" ping --timeout-ms 200 >/dev/null
}

start_all() {
    start store
    start pool
    start pbft "$@"
}

# A transfer of alice's coin to bob, signed: prints the hex.
transfer() {
    tc-tx create --in "$coin" --out "$bob:12.5" --out "$alice:987.4999" |
        tc-keygen sign --key alice.key --genesis genesis.json
}

height_is() { [ "$(tc-store status --json | jq -r .height)" = "$1" ]; }
pbft_field() { tc-pbft status --json | jq -r ".$1"; }
# For wait_for, which runs its command again at each try.
pbft_is() { [ "$(pbft_field "$1")" = "$2" ]; }

@test "n = 1: a submitted transfer is committed alone, and nothing is proposed while idle" {
    start_all
    [ "$(pbft_field height)" = 1 ]
    [ "$(pbft_field n)" = 1 ]
    [ "$(pbft_field quorum)" = 1 ]
    [ "$(pbft_field self)" = 0 ]
    [ "$(pbft_field waiting)" = transactions ]
    transfer >tx.hex
    txid=$(tc-tx id <tx.hex)
    tc-pool submit <tx.hex
    wait_for 100 height_is 1
    [ "$(tc-store tx --json "$txid" | jq -r .height)" = 1 ]
    [ "$(tc-store balance --json "$bob" | jq -r .spendable)" = "12.5" ]
    wait_for 50 pbft_is height 2
    [ "$(pbft_field commits)" = 1 ]
    [ "$(tc-pool why --json "$txid" | jq -r .status)" = committed ]
    # Idle: the pool's empty answer is not made into an empty block; the
    # proposal waits for transactions at height 2, in view 0.
    wait_for 30 pbft_is waiting transactions
    [ "$(pbft_field view)" = 0 ]
    height_is 1
    tc-store verify >/dev/null
}

@test "a restart resumes at the ledger's tip with its vote log" {
    start_all
    transfer | tc-pool submit >/dev/null
    wait_for 100 height_is 1
    kill -TERM "$pbft_pid"
    wait "$pbft_pid"
    [ -s "$TC_DATADIR/pbft/votes.log" ]
    start pbft
    [ "$(pbft_field height)" = 2 ]
    [ "$(pbft_field committed)" = 1 ]
}

@test "SIGTERM exits 0; the clients exit 1 without a daemon; status and events are readable" {
    start_all
    tc-pbft watch >events.jsonl 2>watch.err &
    pids+=($!)
    wait_for 50 grep -q connected watch.err
    transfer | tc-pool submit >/dev/null
    wait_for 100 grep -q '"event":"committed"' events.jsonl
    [ "$(jq -r .height events.jsonl | head -1)" = 1 ]
    [ "$(jq -r .hash events.jsonl | head -1)" = "$(tc-store block --json 1 | jq -r .hash)" ]
    run tc-pbft status
    [ "$status" -eq 0 ]
    [[ "$output" == *"quorum"* ]]
    run tc-pbft evidence --json
    [ "$status" -eq 0 ]
    [ "$output" = "[]" ]
    kill -TERM "$pbft_pid"
    rc=0
    wait "$pbft_pid" || rc=$?
    [ "$rc" -eq 0 ]
    run tc-pbft ping --timeout-ms 200
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "without its key file the daemon refuses to start, naming the file" {
    rm "$TC_DATADIR/masternode.key"
    run tc-pbft run
    [ "$status" -eq 1 ]
    [[ "$output" == *"masternode.key"* ]]
}

@test "a stopped store delays the commit; started again, the block is committed" {
    start store
    start pool
    start pbft --retry-ms 50 --stage-timeout-ms 200
    kill -TERM "$store_pid"
    wait "$store_pid" || true
    transfer | tc-pool submit >/dev/null
    wait_for 50 pbft_is waiting store
    start store
    wait_for 100 height_is 1
    tc-store verify >/dev/null
}
