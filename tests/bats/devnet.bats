#!/usr/bin/env bats
# scripts/tc-devnet: a devnet on this host (one node until tc-p2p exists),
# each node a real masternode under tc-masternode. Waits are loops with a
# deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    devnet="$top/scripts/tc-devnet"
    dn="$BATS_TEST_TMPDIR/dn"
}

teardown() {
    "$devnet" down --dir "$dn" 2>/dev/null || true
    local f
    for f in "$dn"/node*/run/*.pid; do
        [ -f "$f" ] || continue
        kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
}

no_process_left() { ! pgrep -f -- "--datadir $dn/" >/dev/null; }

@test "up -n 1, status --json, down" {
    run "$devnet" up -n 1 --dir "$dn"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$dn/faucet.key"* ]]
    [[ "$output" == *"tc-pool  --datadir $dn/node1 watch"* ]]
    [[ "$output" == *"tc-rpc   --datadir $dn/node1 getinfo"* ]]
    [ -f "$dn/faucet.key" ] && [ -f "$dn/genesis.json" ]
    [ -f "$dn/node1/masternode.key" ] && [ -f "$dn/node1/ledger/data.mdb" ]
    grep -q 'listen = "127.0.0.1:0"' "$dn/node1/timecoin.toml"
    # The genesis: devnet, the faucet funded, node1's key the masternode.
    [ "$(jq -r .network "$dn/genesis.json")" = devnet ]
    [ "$(jq -r '.allocations[0].address' "$dn/genesis.json")" = \
        "$(tc-keygen show --json "$dn/faucet.key" | jq -r .address)" ]
    [ "$(jq -r '.allocations[0].amount' "$dn/genesis.json")" = 1000000 ]
    [ "$(jq -r '.masternodes[0].public_key' "$dn/genesis.json")" = \
        "$(tc-keygen show --json "$dn/node1/masternode.key" | jq -r .public_key)" ]

    run "$devnet" status --dir "$dn" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .faucet_key <<<"$output")" = "$dn/faucet.key" ]
    [ "$(jq '.nodes | length' <<<"$output")" -eq 1 ]
    [ "$(jq -r '.nodes[0].datadir' <<<"$output")" = "$dn/node1" ]
    [ "$(jq -r '.nodes[0].running and .nodes[0].ready' <<<"$output")" = true ]
    [ "$(jq -r '.nodes[0].rpc_url' <<<"$output")" = "$(cat "$dn/node1/run/rpc.url")" ]
    [[ "$(jq -r '.nodes[0].rpc_url' <<<"$output")" == http://127.0.0.1:* ]]
    [ "$(jq '.nodes[0].height | type' <<<"$output")" = '"number"' ]
    [ "$(jq '.nodes[0].view | type' <<<"$output")" = '"number"' ]
    [ "$(jq '.nodes[0].peers' <<<"$output")" -eq 0 ]
    [ "$(jq '.nodes[0].pool_size' <<<"$output")" -eq 0 ]

    run "$devnet" status --dir "$dn"
    [ "$status" -eq 0 ]
    [[ "$output" == *"node1 running ready $dn/node1 http://127.0.0.1:"* ]]

    run "$devnet" down --dir "$dn"
    [ "$status" -eq 0 ]
    no_process_left
    run "$devnet" status --dir "$dn" --json
    [ "$status" -eq 1 ]
    [ "$(jq -r '.nodes[0].running' <<<"$output")" = false ]
    [ "$(jq -r '.nodes[0].height' <<<"$output")" = null ]
}

@test "up --json prints the status object on stdout and nothing else" {
    "$devnet" up --dir "$dn" --json >up.json 2>up.err
    [ "$(jq -r '.nodes[0].datadir' up.json)" = "$dn/node1" ]
    [ "$(jq -r '.faucet_key' up.json)" = "$dn/faucet.key" ]
    grep -q "devnet of 1 node" up.err
}

@test "up on a running devnet is refused; on a stopped one it restarts the same chain" {
    "$devnet" up --dir "$dn" 2>/dev/null
    local keys
    keys=$(cat "$dn/faucet.key" "$dn/node1/masternode.key" "$dn/genesis.json" | sha256sum)
    run "$devnet" up --dir "$dn"
    [ "$status" -eq 1 ]
    [[ "$output" == *"already runs"* ]]

    "$devnet" down --dir "$dn" 2>/dev/null
    run "$devnet" up --dir "$dn"
    [ "$status" -eq 0 ]
    [[ "$output" == *"restarting"* ]]
    [ "$(cat "$dn/faucet.key" "$dn/node1/masternode.key" "$dn/genesis.json" | sha256sum)" = "$keys" ]
    "$devnet" status --dir "$dn" >/dev/null
}

@test "up -n 2 is refused (exit 2, needs tc-p2p) and creates nothing" {
    run "$devnet" up -n 2 --dir "$dn"
    [ "$status" -eq 2 ]
    [[ "$output" == *"tc-p2p"* ]]
    [ ! -e "$dn" ]
    run "$devnet" up -n 0 --dir "$dn"
    [ "$status" -eq 2 ]
    run "$devnet" frobnicate
    [ "$status" -eq 2 ]
    run "$devnet" status --dir "$dn"
    [ "$status" -eq 1 ]
    [[ "$output" == *"no devnet"* ]]
}

@test "up refuses a directory that holds something else" {
    mkdir -p "$dn"
    touch "$dn/precious"
    run "$devnet" up --dir "$dn"
    [ "$status" -eq 1 ]
    [[ "$output" == *"holds no devnet"* ]]
    [ "$(ls "$dn")" = precious ]
}
