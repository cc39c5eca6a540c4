#!/usr/bin/env bats
# scripts/tc-devnet: a devnet on this host, each node a real masternode
# under tc-masternode (small ones here; network.bats runs four). Waits are
# loops with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    devnet="$top/scripts/tc-devnet"
    dn="$BATS_TEST_TMPDIR/dn"
}

teardown() { devnet_down "$dn"; }

no_process_left() { ! pgrep -f -- "--datadir $dn/" >/dev/null; }

@test "up -n 1, status --json, down" {
    run "$devnet" up -n 1 --dir "$dn"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$dn/faucet.key"* ]]
    [[ "$output" == *"tc-pool  --datadir $dn/node1 watch"* ]]
    [[ "$output" == *"tc-rpc   --datadir $dn/node1 getinfo"* ]]
    [[ "$output" == *"tc-p2p   --datadir $dn/node1 watch"* ]]
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
    # Its tc-p2p listens on the node's endpoint in the genesis, a free port.
    [ "$(tc-p2p --datadir "$dn/node1" status --json | jq -r .listen)" = \
        "$(jq -r '.masternodes[0].endpoint' "$dn/genesis.json")" ]

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

@test "up -n 2 --json: two linked masternodes, the status object on stdout and nothing else" {
    "$devnet" up -n 2 --dir "$dn" --json >up.json 2>up.err
    [ "$(jq -r '.nodes[0].datadir' up.json)" = "$dn/node1" ]
    [ "$(jq -r '.nodes[1].datadir' up.json)" = "$dn/node2" ]
    [ "$(jq -r '.faucet_key' up.json)" = "$dn/faucet.key" ]
    grep -q "devnet of 2 node" up.err
    # Both in the genesis, on two different ports, each with its own key.
    [ "$(jq '.masternodes | length' "$dn/genesis.json")" -eq 2 ]
    [ "$(jq '[.masternodes[].endpoint] | unique | length' "$dn/genesis.json")" -eq 2 ]
    local k1 k2
    k1=$(tc-keygen show --json "$dn/node1/masternode.key" | jq -r .public_key)
    k2=$(tc-keygen show --json "$dn/node2/masternode.key" | jq -r .public_key)
    [ "$(jq -r '[.masternodes[].public_key] | sort | join(" ")' "$dn/genesis.json")" = \
        "$(printf '%s\n' "$k1" "$k2" | sort | tr '\n' ' ' | sed 's/ $//')" ]
    [ "$(jq -r '.nodes[1].rpc_url' up.json)" != "$(jq -r '.nodes[0].rpc_url' up.json)" ]
    # up returns once the nodes are linked: each sees the other.
    [ "$(jq '[.nodes[].peers] | min' up.json)" -eq 1 ]
    [ "$(tc-p2p --datadir "$dn/node1" peers --json | jq -r '.[] | select(.connected) | .key')" = "$k2" ]
    [ "$(tc-p2p --datadir "$dn/node2" peers --json | jq -r '.[] | select(.connected) | .key')" = "$k1" ]
}

@test "up on a running devnet is refused; on a stopped one it restarts the same chain" {
    "$devnet" up -n 1 --dir "$dn" 2>/dev/null
    local keys
    keys=$(cat "$dn/faucet.key" "$dn/node1/masternode.key" "$dn/genesis.json" | sha256sum)
    run "$devnet" up --dir "$dn"
    [ "$status" -eq 1 ]
    [[ "$output" == *"already runs"* ]]

    "$devnet" down --dir "$dn" 2>/dev/null
    run "$devnet" up --dir "$dn"
    [ "$status" -eq 0 ]
    [[ "$output" == *"restarting the devnet in $dn (1 node(s))"* ]]
    run "$devnet" up -n 3 --dir "$dn"
    [ "$status" -eq 1 ]
    [[ "$output" == *"a devnet of 1 node(s), not 3"* ]]
    [ "$(cat "$dn/faucet.key" "$dn/node1/masternode.key" "$dn/genesis.json" | sha256sum)" = "$keys" ]
    "$devnet" status --dir "$dn" >/dev/null
}

@test "usage errors exit 2 and create nothing: -n 0, -n 33, -n x, an unknown command" {
    run "$devnet" up -n 33 --dir "$dn"
    [ "$status" -eq 2 ]
    [[ "$output" == *"at most 32"* ]]
    [ ! -e "$dn" ]
    run "$devnet" up -n 0 --dir "$dn"
    [ "$status" -eq 2 ]
    run "$devnet" up -n x --dir "$dn"
    [ "$status" -eq 2 ]
    run "$devnet" status -n 2 --dir "$dn"
    [ "$status" -eq 2 ]
    [ ! -e "$dn" ]
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

@test "demo: two masternodes (TC_DEMO_NODES), the load committed on both, left running" {
    # TC_BUILD_DIR is set by the test runner: demo skips install and build.
    [ -n "${TC_BUILD_DIR:-}" ] || skip "demo builds the checkout without TC_BUILD_DIR"
    TC_DEMO_NODES=2 TC_DEMO_COUNT=300 "$devnet" demo --dir "$dn" >demo.json 2>demo.err
    [ "$(jq .committed demo.json)" -eq 300 ]
    [ "$(jq .submitted demo.json)" -eq 300 ]
    grep -q "devnet of 2 node" demo.err
    grep -q "300 of 300 transfers committed by 2 masternode(s)" demo.err
    grep -q "tc-p2p   --datadir $dn/node1 watch" demo.err
    # Still running, both nodes linked and on the same height.
    run "$devnet" status --dir "$dn" --json
    [ "$status" -eq 0 ]
    [ "$(jq '.nodes | length' <<<"$output")" -eq 2 ]
    [ "$(jq '[.nodes[].peers] | min' <<<"$output")" -eq 1 ]
    [ "$(jq '[.nodes[].height] | unique | length' <<<"$output")" -eq 1 ]
    [ "$(jq '.nodes[0].height' <<<"$output")" -ge 1 ]
    [ "$(tc-rpc --datadir "$dn/node2" getblockhash 1)" = "$(tc-rpc --datadir "$dn/node1" getblockhash 1)" ]
}
