#!/usr/bin/env bats
# The masternode set changes by transaction (DESIGN §3, §4; issue 7): on a
# 4-node devnet a 5th masternode registers, starts, syncs and votes from the
# activation height; then one retires and stops being counted.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    dev="$BATS_TEST_TMPDIR/devnet"
    devnet_up "$dev" -n 4
    delay=$(jq -r .activation_delay "$dev/genesis.json")
    collateral=$(jq -r .collateral "$dev/genesis.json")
}

teardown() { devnet_down "$dev"; }

rpc() { tc-rpc --datadir "$dev/node1" "$@"; }
committed() { rpc gettransaction "$1" >/dev/null 2>&1; }
pbft_field() { tc-pbft --datadir "$dev/node$1" status --json | jq -r ".$2"; }
set_size_is() { [ "$(pbft_field "$1" n)" = "$2" ]; }
height() { rpc getblockcount; }
# minus A B...: A - B - ... in decimal TIME, exactly.
minus() { python3 -c 'import sys; from decimal import Decimal as D; a=sys.argv[1:]; print(D(a[0]) - sum(map(D, a[1:])))' "$@"; }

# send HEX: submits through node 1 and waits until it is in a block; prints
# the block's height.
send() {
    local txid
    txid=$(rpc sendrawtransaction "$1")
    wait_for 300 committed "$txid"
    rpc gettransaction "$txid" | jq -r .height
}

# A transfer of the faucet's largest coin to itself, less a fee: keeps
# blocks coming.
transfer() {
    local coin amount
    coin=$(rpc listunspent "$faucet" | jq -r 'max_by(.amount | tonumber) | "\(.txid):\(.vout):\(.amount)"')
    amount=$(minus "${coin##*:}" 0.001)
    tc-tx create --in "${coin%:*}" --out "$faucet:$amount" |
        tc-keygen sign --key "$dev/faucet.key" --genesis "$dev/genesis.json"
}

@test "a 5th masternode registers by transaction, votes from the activation height; one retires" {
    local n5="$dev/node5" port pub addr
    mkdir -p "$n5"
    chmod 0700 "$n5"
    addr=$(tc-keygen new --devnet --out "$n5/masternode.key")
    pub=$(tc-keygen show --json "$n5/masternode.key" | jq -r .public_key)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cp "$dev/node1/timecoin.toml" "$n5/timecoin.toml"
    sed -i "s|$dev/node1/|$n5/|g" "$n5/timecoin.toml"
    tc-store --datadir "$n5" init --genesis "$dev/genesis.json" >/dev/null

    # Register: output 0 locks the collateral, output 1 is the change.
    local coin amount change hex h
    coin=$(rpc listunspent "$faucet" | jq -r 'max_by(.amount | tonumber) | "\(.txid):\(.vout):\(.amount)"')
    amount=${coin##*:}
    change=$(minus "$amount" "$collateral" 0.001)
    hex=$(tc-tx create --in "${coin%:*}" --out "$addr:$collateral" --out "$faucet:$change" \
        --register "$pub,127.0.0.1:$port,$addr" |
        tc-keygen sign --key "$dev/faucet.key" --genesis "$dev/genesis.json")
    h=$(send "$hex")
    "$top/scripts/tc-masternode" start --datadir "$n5" >/dev/null

    # Blocks go on; from h + delay the set has five members, node 5 among them.
    while [ "$(height)" -lt $((h + delay)) ]; do send "$(transfer)" >/dev/null; done
    wait_for 300 set_size_is 1 5
    wait_for 300 set_size_is 5 5
    [ "$(pbft_field 5 self)" != null ]
    [ "$(rpc getmasternodes | jq length)" = 5 ]
    # It votes: blocks keep committing with node 5 counted (q = 4 of 5) even
    # with node 4 stopped, which needs node 5's votes.
    "$top/scripts/tc-masternode" stop --datadir "$dev/node4" >/dev/null
    local before
    before=$(height)
    send "$(transfer)" >/dev/null
    send "$(transfer)" >/dev/null
    [ "$(height)" -gt "$before" ]
    [ "$(tc-store --datadir "$n5" status --json | jq -r .height)" -ge "$before" ]

    # Node 4 retires (signed by its own key): the set is back to four, and
    # the network goes on without it.
    local pub4
    pub4=$(tc-keygen show --json "$dev/node4/masternode.key" | jq -r .public_key)
    hex=$(tc-tx create --retire "$pub4" |
        tc-keygen sign --key "$dev/node4/masternode.key" --genesis "$dev/genesis.json")
    h=$(send "$hex")
    while [ "$(height)" -lt $((h + delay)) ]; do send "$(transfer)" >/dev/null; done
    wait_for 300 set_size_is 1 4
    [ "$(rpc getmasternodes | jq -r '.[].public_key' | grep -c "$pub4")" = 0 ]
    send "$(transfer)" >/dev/null
}
