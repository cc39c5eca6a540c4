#!/usr/bin/env bats
# tc-pool run, the transaction pool daemon, beside a real tc-store run on a
# devnet genesis, and its clients submit, status, list, why and watch. Waits
# are loops with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_keys
    store_pid=""
    pool_pid=""
    watch_pid=""
    tc-store genesis --chain bats --devnet --alloc "$alice:1000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >genesis.json
    tc-store init --genesis genesis.json >/dev/null
    coin=$(tc-store utxos "$alice" | cut -d' ' -f1)
}

teardown() {
    for pid in $watch_pid $pool_pid $store_pid; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

start_store() {
    tc-store run 2>>store.err &
    store_pid=$!
    wait_for 100 tc-store ping --timeout-ms 200 >/dev/null
}

start_pool() {
    tc-pool run "$@" 2>>pool.err &
    pool_pid=$!
    wait_for 100 tc-pool status --timeout-ms 200 >/dev/null
}

# A transfer of alice's coin: sign_tx KEY OUT... prints the signed hex.
sign_tx() {
    local key=$1
    shift
    local args=(--in "$coin")
    for out in "$@"; do args+=(--out "$out"); done
    tc-tx create "${args[@]}" | tc-keygen sign --key "$key" --genesis genesis.json
}

# The port the daemon's metrics server took (it logs it on start).
metrics_port() { grep -o 'metrics on .*(port [0-9]*)' pool.err | grep -o '[0-9]*)$' | tr -d ')'; }
metric() { curl -sf "http://127.0.0.1:$(metrics_port)/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

pool_height() { tc-pool status --json | jq -r .height; }
height_is() { [ "$(pool_height)" = "$1" ]; }
why_status() { tc-pool why --json "$1" | jq -r .status; }
status_is() { [ "$(why_status "$1")" = "$2" ]; }

@test "a valid transfer is accepted, listed and pending; status and list parse as JSON" {
    start_store
    start_pool --metrics-listen 127.0.0.1:0
    sign_tx alice.key "$bob:12.5" "$alice:987.4999" >tx.hex
    txid=$(tc-tx id <tx.hex)
    run tc-pool submit <tx.hex
    [ "$status" -eq 0 ]
    [ "$output" = "$txid accepted" ]
    run tc-pool list
    [ "$status" -eq 0 ]
    [ "$output" = "$txid $(jq -r '.[0].rate' <<<"$(tc-pool list --json)")" ]
    [ "$(tc-pool list --json | jq -r '.[0].txid')" = "$txid" ]
    [ "$(tc-pool list --json | jq -r '.[0].fee')" = 10000 ]
    [ "$(tc-pool status --json | jq -r .count)" = 1 ]
    [ "$(tc-pool status --json | jq -r .height)" = 0 ]
    [ "$(tc-pool why --json "$txid" | jq -r .rank)" = 1 ]
    run tc-pool why "$txid"
    [[ "$output" == "pending rank=1 rate="* ]]
    [ "$(metric tc_pool_transactions)" = 1 ]
    [ "$(metric 'tc_pool_submitted_total{outcome="accepted"}')" = 1 ]
}

@test "a double spend, a bad signature and a fee below the floor are refused with their reason" {
    start_store
    start_pool
    sign_tx alice.key "$bob:12.5" "$alice:987.4999" | tc-pool submit
    sign_tx alice.key "$bob:13" "$alice:986.9999" >double.hex
    sign_tx bob.key "$bob:12" "$alice:987.9999" >badsig.hex  # bob signs alice's coin
    sign_tx alice.key "$bob:12.5" "$alice:987.49999999" >cheap.hex  # a 1-unit fee
    cat double.hex badsig.hex cheap.hex >three.hex
    echo 00 >>three.hex
    run tc-pool submit <three.hex
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "$(tc-tx id <double.hex) refused double-spend: tx.inputs[0]: "* ]]
    [[ "${lines[1]}" == "$(tc-tx id <badsig.hex) refused bad-signature: "* ]]
    [[ "${lines[2]}" == "$(tc-tx id <cheap.hex) refused fee-too-low: "* ]]
    [[ "${lines[3]}" == "- refused malformed: "* ]]
    [ "${lines[4]}" = "tc-pool: error: 4 of 4 transactions refused" ]
    [ "$(tc-pool why --json "$(tc-tx id <cheap.hex)" | jq -r .reason)" = fee-too-low ]
    [ "$(why_status "$(tc-tx id <badsig.hex)")" = refused ]
    [ "$(tc-pool status --json | jq -r .count)" = 1 ]
    run tc-pool submit --json <cheap.hex
    [ "$(jq -r .reason <<<"${lines[0]}")" = fee-too-low ]
    [ "$(jq -r .accepted <<<"${lines[0]}")" = false ]
}

@test "a committed block that spends a pooled tx's input makes it double-spend; watch sees it" {
    start_store
    start_pool
    tc-pool watch >watch.out 2>watch.err &
    watch_pid=$!
    wait_for 100 grep -q connected watch.err
    sign_tx alice.key "$bob:12.5" "$alice:987.4999" >tx.hex
    txid=$(tc-tx id <tx.hex)
    tc-pool submit <tx.hex
    [ "$(why_status "$txid")" = pending ]
    # tc-chaingen's first block spends alice's genesis coin with a tx of its own.
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks 2 --txs-per-block 1 --to "$bob" --amount 1.5 >chain.tcx
    tc-store submit <chain.tcx >/dev/null
    wait_for 100 height_is 2
    run tc-pool why "$txid"
    [[ "$output" == "conflicted height=1 reason=double-spend tx.inputs[0]: "* ]]
    [ "$(tc-pool status --json | jq -r .count)" = 0 ]
    wait_for 100 grep -q '"double-spend"' watch.out
    [ "$(head -1 watch.out | jq -r .event)" = accepted ]
    [ "$(head -1 watch.out | jq -r .seq)" = 1 ]
    [ "$(sed -n 2p watch.out | jq -r '.event + " " + .txid + " " + .reason')" = \
        "double-spend $txid double-spend" ]
}

@test "the pool serves without the store, and catches up through since when it comes" {
    start_pool --retry-ms 100
    [ "$(pool_height)" = 0 ]
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks 3 --txs-per-block 1 --to "$bob" --amount 1.5 >chain.tcx
    # Committed while no store daemon runs: the pool hears nothing...
    tc-store import <chain.tcx >/dev/null
    [ "$(pool_height)" = 0 ]
    # ...until tc-store run comes up: its welcome makes the pool ask since.
    start_store
    wait_for 100 height_is 3
    grep -q "following tc-store run's events" pool.err
}

@test "SIGTERM stops the daemon with exit 0; clients without a daemon exit 1, bad usage 2" {
    start_pool
    kill -TERM "$pool_pid"
    rc=0
    wait "$pool_pid" || rc=$?
    pool_pid=""
    [ "$rc" -eq 0 ]
    grep -q stopped pool.err
    run tc-pool status --timeout-ms 200
    [ "$status" -eq 1 ]
    [[ "$output" == "tc-pool: error: no answer from "* ]]
    run tc-pool why nothex
    [ "$status" -eq 2 ]
    run tc-pool frobnicate
    [ "$status" -eq 2 ]
}
