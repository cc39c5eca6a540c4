#!/usr/bin/env bats
# One masternode end to end (issue 6): scripts/tc-devnet up -n 1 starts
# tc-store, tc-pool, tc-pbft and tc-rpc under scripts/tc-masternode; a user
# talks to it with tc-rpc only. Waits are loops with a deadline on a
# condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    dev="$BATS_TEST_TMPDIR/devnet"
    node="$dev/node1"
    devnet_up "$dev" -n 1
    bob=$(tc-keygen new --devnet --out bob.key)
}

teardown() { devnet_down "$dev"; }

rpc() { tc-rpc --datadir "$node" "$@"; }

# The faucet's first unspent output, as TXID:VOUT.
faucet_coin() { rpc listunspent "$faucet" | jq -r '.[0] | "\(.txid):\(.vout)"'; }

# sign_from COIN KEY OUT...: a signed transfer of COIN, hex.
sign_from() { sign_transfer "$dev/genesis.json" "$@"; }

committed() { rpc gettransaction "$1" >/dev/null 2>&1; }
height_of() { rpc gettransaction "$1" | jq -r .height; }

@test "a transfer sent with tc-rpc sendrawtransaction is committed and the balances are right" {
    coin=$(faucet_coin)
    hex=$(sign_from "$coin" "$dev/faucet.key" "$bob:25" "$faucet:999974.9999")
    run rpc sendrawtransaction "$hex"
    [ "$status" -eq 0 ]
    txid=$output
    [ "$txid" = "$(tc-tx id <<<"$hex")" ]
    wait_for 100 committed "$txid"
    [ "$(height_of "$txid")" = 1 ]
    [ "$(rpc getbalance "$bob")" = 25 ]
    [ "$(rpc getbalance "$faucet")" = 999974.9999 ]
    [ "$(rpc getblockcount)" = 1 ]
    [ "$(rpc getblock 1 | jq -r '.txids[0]')" = "$txid" ]
    # Fees are burned: the supply went down by exactly the fee.
    [ "$(tc-store --datadir "$node" status --json | jq -r .fees_burned)" = 0.0001 ]
}

@test "a double spend, a bad signature and a fee below the floor are refused with their reason" {
    coin=$(faucet_coin)
    first=$(sign_from "$coin" "$dev/faucet.key" "$bob:25" "$faucet:999974.9999")
    txid=$(rpc sendrawtransaction "$first")
    wait_for 100 committed "$txid"

    # The same coin again, to another output.
    again=$(sign_from "$coin" "$dev/faucet.key" "$bob:30" "$faucet:999969.9999")
    run rpc sendrawtransaction "$again"
    [ "$status" -eq 1 ]
    [[ "$output" == *double-spend* ]]

    change="$txid:1"
    # Signed by bob, who does not own the faucet's change.
    run rpc sendrawtransaction "$(sign_from "$change" bob.key "$bob:1" "$faucet:999973.9998")"
    [ "$status" -eq 1 ]
    [[ "$output" == *bad-signature* ]]

    # The whole change minus 1 base unit: a fee of 1 for ~150 bytes.
    run rpc sendrawtransaction "$(sign_from "$change" "$dev/faucet.key" "$bob:1" \
        "$faucet:999973.99989999")"
    [ "$status" -eq 1 ]
    [[ "$output" == *fee-too-low* ]]

    # The JSON-RPC error carries the reason for scripts.
    cookie=$(cut -d: -f2 "$node/rpc.cookie")
    body=$(jq -cn --arg hex "$again" \
        '{jsonrpc: "2.0", id: 1, method: "sendrawtransaction", params: [$hex]}')
    reply=$(curl -s -u "__cookie__:$cookie" -d "$body" "$(cat "$node/run/rpc.url")")
    [ "$(jq -r .error.code <<<"$reply")" = -26 ]
    [ "$(jq -r .error.data.reason <<<"$reply")" = double-spend ]
    # Nothing of it reached the chain.
    [ "$(rpc getblockcount)" = 1 ]
    [ "$(rpc getbalance "$bob")" = 25 ]
}

@test "stopped and started, the masternode's state is intact" {
    coin=$(faucet_coin)
    txid=$(rpc sendrawtransaction "$(sign_from "$coin" "$dev/faucet.key" "$bob:25" \
        "$faucet:999974.9999")")
    wait_for 100 committed "$txid"
    tip=$(rpc getblockhash 1)
    "$top/scripts/tc-devnet" down --dir "$dev"
    run "$top/scripts/tc-masternode" status --datadir "$node"
    [ "$status" -eq 1 ]
    devnet_up "$dev"
    [ "$(rpc getblockcount)" = 1 ]
    [ "$(rpc getblockhash 1)" = "$tip" ]
    [ "$(rpc getbalance "$bob")" = 25 ]
    tc-store --datadir "$node" verify >/dev/null
    # And it goes on committing.
    txid2=$(rpc sendrawtransaction "$(sign_from "$txid:0" bob.key "$faucet:24.9999")")
    wait_for 100 committed "$txid2"
    [ "$(height_of "$txid2")" = 2 ]
}

@test "a stage killed with SIGKILL is restarted and no committed transaction is lost" {
    coin=$(faucet_coin)
    txid=$(rpc sendrawtransaction "$(sign_from "$coin" "$dev/faucet.key" "$bob:25" \
        "$faucet:999974.9999")")
    wait_for 100 committed "$txid"
    for stage in pbft store pool; do
        old=$(cat "$node/run/$stage.pid")
        kill -KILL "$old"
        new_pid() { [ -f "$node/run/$stage.pid" ] && [ "$(cat "$node/run/$stage.pid")" != "$old" ]; }
        wait_for 200 new_pid
        wait_for 200 "tc-$stage" --datadir "$node" ping --timeout-ms 200
    done
    wait_for 100 "$top/scripts/tc-masternode" status --datadir "$node"
    [ "$(rpc getbalance "$bob")" = 25 ]
    [ "$(height_of "$txid")" = 1 ]
    tc-store --datadir "$node" verify >/dev/null
    # The restarted stages commit the next transfer.
    txid2=$(rpc sendrawtransaction "$(sign_from "$txid:1" "$dev/faucet.key" "$bob:1" \
        "$faucet:999973.9998")")
    wait_for 150 committed "$txid2"
    [ "$(rpc getbalance "$bob")" = 26 ]
}
