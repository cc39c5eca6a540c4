#!/usr/bin/env bats
# A real network (issue 7): four masternodes of scripts/tc-devnet on this
# host, each tc-store, tc-pool, tc-pbft, tc-p2p and tc-rpc under
# tc-masternode, linked by tc-p2p over CURVE. Every test brings up its own
# devnet in its own directory and takes it down in teardown. Waits are loops
# with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    devnet="$top/scripts/tc-devnet"
    mn="$top/scripts/tc-masternode"
    dn="$BATS_TEST_TMPDIR/dn"
    stranger_pid=""
}

teardown() {
    [ -z "$stranger_pid" ] || kill -TERM "$stranger_pid" 2>/dev/null || true
    devnet_down "$dn"
    [ -z "$stranger_pid" ] || kill -KILL "$stranger_pid" 2>/dev/null || true
}

# up [ARGS]: the devnet of this test (devnet_up); sets $faucet.
up() { devnet_up "$dn" "$@"; }

rpc() {
    local i=$1
    shift
    tc-rpc --datadir "$dn/node$i" "$@"
}

# sign_from COIN KEY OUT...: a signed transfer of COIN (TXID:VOUT), hex.
sign_from() { sign_transfer "$dn/genesis.json" "$@"; }

# committed_on TXID NODE...: the transfer is in a block of every NODE.
committed_on() {
    local txid=$1 i out
    shift
    for i in "$@"; do
        out=$(rpc "$i" gettransaction "$txid" 2>/dev/null) || return 1
        jq -e '.height > 0' <<<"$out" >/dev/null || return 1
    done
}

height() { rpc "$1" getblockcount 2>/dev/null; }

# same_chain NODE...: the same height on every NODE, and the same block hash
# at every height.
same_chain() {
    local first=$1 h i j hash
    h=$(height "$first") || return 1
    for i in "${@:2}"; do
        [ "$(height "$i")" = "$h" ] || return 1
    done
    for ((j = 1; j <= h; j++)); do
        hash=$(rpc "$first" getblockhash "$j") || return 1
        for i in "${@:2}"; do
            [ "$(rpc "$i" getblockhash "$j")" = "$hash" ] || return 1
        done
    done
}

# height_at_least H NODE...
height_at_least() {
    local want=$1 i h
    shift
    for i in "$@"; do
        h=$(height "$i") || return 1
        ((h >= want)) || return 1
    done
}

# kill_node I: SIGKILL node I's supervisor and every stage of it at once.
kill_node() {
    local pids=() f
    for f in "$dn/node$1"/run/{masternode,store,pool,pbft,p2p,rpc}.pid; do
        [ -f "$f" ] && pids+=("$(cat "$f")")
    done
    [ "${#pids[@]}" -eq 6 ]
    kill -KILL "${pids[@]}"
    local p
    for p in "${pids[@]}"; do
        wait_for 50 gone "$p"
    done
}
gone() { [ ! -e "/proc/$1" ] || [[ "$(cat "/proc/$1/stat" 2>/dev/null)" =~ \)\ Z ]]; }

pbft_field() { tc-pbft --datadir "$dn/node$1" status --json --timeout-ms 1000 | jq -r ".$2"; }
p2p_field() { tc-p2p --datadir "$dn/node$1" status --json --timeout-ms 1000 | jq -r ".$2"; }

# Splits the faucet's coin, through node 1, into five outputs: 10 TIME to
# each of $BATS_TEST_TMPDIR/k1.key .. k4.key and the change. Sets $split.
split_faucet() {
    local coin outs=() i addr
    coin=$(rpc 1 listunspent "$faucet" | jq -r '.[0] | "\(.txid):\(.vout)"')
    for i in 1 2 3 4; do
        addr=$(tc-keygen new --devnet --out "k$i.key")
        outs+=("$addr:10")
    done
    split=$(rpc 1 sendrawtransaction "$(sign_from "$coin" "$dn/faucet.key" "${outs[@]}" \
        "$faucet:999959.9999")")
    wait_for 200 committed_on "$split" 1 2 3 4
}

@test "4 masternodes: transfers sent to each node's tc-rpc are committed on all, on one chain" {
    # up's default is four masternodes, linked before it returns.
    up
    [ "$(jq '.masternodes | length' "$dn/genesis.json")" -eq 4 ]
    for i in 1 2 3 4; do
        [ "$(p2p_field "$i" connected)" -eq 3 ]
        [ "$(pbft_field "$i" n)" -eq 4 ]
    done

    split_faucet
    # Four transfers at once, each to a different node: each spends one of
    # the split's outputs back to the faucet.
    local txids=() i
    for i in 1 2 3 4; do
        txids+=("$(rpc "$i" sendrawtransaction "$(sign_from "$split:$((i - 1))" "k$i.key" \
            "$faucet:9.9999")")")
    done
    for txid in "${txids[@]}"; do
        wait_for 300 committed_on "$txid" 1 2 3 4
    done
    wait_for 100 same_chain 1 2 3 4
    # Every node has the same balances too.
    for i in 1 2 3 4; do
        [ "$(rpc "$i" getbalance "$faucet")" = 999999.9995 ]
        [ "$(rpc "$i" listunspent "$(tc-keygen show --json k1.key | jq -r .address)" | jq length)" -eq 0 ]
    done
    # status agrees: every node linked to three, at the same height.
    run "$devnet" status --dir "$dn" --json
    [ "$status" -eq 0 ]
    [ "$(jq '[.nodes[] | select(.peers == 3)] | length' <<<"$output")" -eq 4 ]
    [ "$(jq '[.nodes[].height] | unique | length' <<<"$output")" -eq 1 ]
}

@test "a node killed with SIGKILL: the other three go on committing; restarted, it catches up" {
    up -n 4
    split_faucet
    # Kill a node that is not the primary of the height being decided.
    local primary victim=0 i
    primary=$(pbft_field 1 primary)
    for i in 4 3 2; do
        if [ "$(pbft_field "$i" self)" != "$primary" ]; then
            victim=$i
            break
        fi
    done
    [ "$victim" -ne 0 ]
    local others=()
    for i in 1 2 3 4; do [ "$i" = "$victim" ] || others+=("$i"); done
    kill_node "$victim"

    local h0 txid
    h0=$(height "${others[0]}")
    for i in 1 2; do
        txid=$(rpc "${others[$((i - 1))]}" sendrawtransaction "$(sign_from "$split:$((i - 1))" \
            "k$i.key" "$faucet:9.9999")")
        wait_for 300 committed_on "$txid" "${others[@]}"
    done
    height_at_least $((h0 + 1)) "${others[@]}"
    wait_for 100 same_chain "${others[@]}"
    # The dead node is still behind.
    [ "$(tc-store --datadir "$dn/node$victim" status --json | jq .height)" -lt "$(height "${others[0]}")" ]

    # Restarted (stale pid files and all), it syncs to the tip by itself.
    "$mn" start --datadir "$dn/node$victim" 2>/dev/null
    wait_for 300 same_chain "${others[0]}" "$victim"
    committed_on "$txid" "$victim"
    # And it takes part again: a transfer sent to it is committed on all.
    txid=$(rpc "$victim" sendrawtransaction "$(sign_from "$split:2" k3.key "$faucet:9.9999")")
    wait_for 300 committed_on "$txid" 1 2 3 4
    wait_for 100 same_chain 1 2 3 4
}

@test "the primary of the next height killed: a view change elects another and commits go on" {
    up -n 4
    split_faucet
    local primary victim=0 i
    primary=$(pbft_field 1 primary)
    [ "$(pbft_field 1 view)" -eq 0 ]
    for i in 1 2 3 4; do
        if [ "$(pbft_field "$i" self)" = "$primary" ]; then
            victim=$i
            break
        fi
    done
    [ "$victim" -ne 0 ]
    local others=() changes_before=()
    for i in 1 2 3 4; do
        [ "$i" = "$victim" ] && continue
        others+=("$i")
    done
    for i in "${others[@]}"; do changes_before+=("$(pbft_field "$i" view_changes)"); done
    kill_node "$victim"

    local txid h block
    txid=$(rpc "${others[0]}" sendrawtransaction "$(sign_from "$split:0" k1.key "$faucet:9.9999")")
    wait_for 400 committed_on "$txid" "${others[@]}"
    wait_for 100 same_chain "${others[@]}"
    # Its block was decided in a later view, proposed by another masternode,
    # and certified without the dead one.
    h=$(rpc "${others[0]}" gettransaction "$txid" | jq .height)
    block=$(rpc "${others[0]}" getblock "$h")
    [ "$(jq .view <<<"$block")" -ge 1 ]
    [ "$(jq .proposer <<<"$block")" != "$primary" ]
    [ "$(jq --argjson p "$primary" '[.certificate.signatures[] | select(.index == $p)] | length' \
        <<<"$block")" -eq 0 ]
    # The survivors went through the view change (one that lagged may
    # have caught up from the others' certificate instead).
    local k=0 changed=0
    for i in "${others[@]}"; do
        [ "$(pbft_field "$i" view_changes)" -gt "${changes_before[$k]}" ] && changed=$((changed + 1))
        k=$((k + 1))
    done
    [ "$changed" -ge 1 ]
    # And the next height commits too, under whoever is primary now.
    txid=$(rpc "${others[1]}" sendrawtransaction "$(sign_from "$split:1" k2.key "$faucet:9.9999")")
    wait_for 400 committed_on "$txid" "${others[@]}"
}

refused_grew() { [ "$(p2p_field 1 refused)" -gt "$1" ]; }

@test "a key outside the registry is refused and never linked" {
    up -n 4
    local before node1_pub node1_ep stranger_pub
    before=$(p2p_field 1 refused)
    node1_pub=$(tc-keygen show --json "$dn/node1/masternode.key" | jq -r .public_key)
    [ "$node1_pub" = "$(p2p_field 1 self)" ]
    node1_ep=$(p2p_field 1 listen)

    # A 5th tc-p2p on the same chain with a fresh key, told to link to node1.
    local sd="$BATS_TEST_TMPDIR/stranger"
    tc-store --datadir "$sd" init --genesis "$dn/genesis.json" >/dev/null
    tc-keygen new --devnet --out "$sd/masternode.key" >/dev/null
    stranger_pub=$(tc-keygen show --json "$sd/masternode.key" | jq -r .public_key)
    tc-p2p --datadir "$sd" run --peer "$node1_pub,$node1_ep" --tip-interval-ms 200 \
        >stranger.log 2>&1 &
    stranger_pid=$!
    wait_for 100 tc-p2p --datadir "$sd" ping --timeout-ms 200

    # node1's ZAP handler refuses it, again and again as it retries.
    wait_for 200 refused_grew "$before"
    wait_for 200 refused_grew "$((before + 1))"
    # It never appears as a linked peer of node1, which keeps its three.
    [ "$(tc-p2p --datadir "$dn/node1" peers --json |
        jq --arg k "$stranger_pub" '[.[] | select(.key == $k and .connected)] | length')" -eq 0 ]
    [ "$(p2p_field 1 connected)" -eq 3 ]
    # And the stranger has no link to node1.
    [ "$(tc-p2p --datadir "$sd" peers --json |
        jq --arg k "$node1_pub" '[.[] | select(.key == $k and .connected)] | length')" -eq 0 ]

    kill -TERM "$stranger_pid"
    wait "$stranger_pid"
    stranger_pid=""
}
