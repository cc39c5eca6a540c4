#!/usr/bin/env bats
# tc-p2p between real processes on 127.0.0.1 (DESIGN §5, issue 7): block
# sync, who is admitted, bans. Two masternodes a and b of one genesis; the
# 4-node network with consensus is in network.bats.

load helpers

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# genesis.json with masternodes a and b (keys a.key, b.key) on free ports,
# a funded alice.key; datadirs a/ and b/ initialised with their keys.
setup() {
    cd "$BATS_TEST_TMPDIR"
    pids=()
    port_a=$(free_port)
    port_b=$(free_port)
    tc-keygen new --devnet --out a.key >/dev/null
    tc-keygen new --devnet --out b.key >/dev/null
    alice=$(tc-keygen new --devnet --out alice.key)
    pub_a=$(tc-keygen show --json a.key | jq -r .public_key)
    pub_b=$(tc-keygen show --json b.key | jq -r .public_key)
    local addr_a addr_b
    addr_a=$(tc-keygen show --json a.key | jq -r .address)
    addr_b=$(tc-keygen show --json b.key | jq -r .address)
    tc-store genesis --chain p2p --devnet --alloc "$alice:1000" \
        --masternode "$pub_a,127.0.0.1:$port_a,$addr_a" \
        --masternode "$pub_b,127.0.0.1:$port_b,$addr_b" >genesis.json
    for n in a b; do
        tc-store --datadir $n init --genesis genesis.json >/dev/null
        cp $n.key $n/masternode.key
    done
}

teardown() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# start DATADIR PROGRAM [FLAGS...]: `PROGRAM --datadir DATADIR run FLAGS`
# in the background, logging to DATADIR.PROGRAM.log.
start() {
    local dir=$1 prog=$2
    shift 2
    "$prog" --datadir "$dir" run "$@" >"$dir.$prog.log" 2>&1 &
    pids+=($!)
}

height_of() { tc-store --datadir "$1" status --json | jq -r .height; }
at_height() { [ "$(height_of "$1")" = "$2" ]; }
peer_field() { tc-p2p --datadir "$1" peers --json | jq -r --arg k "$2" ".[] | select(.key == \$k) | .$3"; }
banned() { [ "$(peer_field "$1" "$2" banned_s)" -gt 0 ]; }
connected() { [ "$(peer_field "$1" "$2" connected)" = true ]; }

@test "a node started after 1000 blocks syncs to the tip from its peer" {
    tc-chaingen --genesis genesis.json --masternode-key a.key --masternode-key b.key \
        --faucet-key alice.key --blocks 1000 --txs-per-block 2 >chain.tcx
    tc-store --datadir a import <chain.tcx >/dev/null 2>&1
    start a tc-store
    start b tc-store
    start a tc-p2p
    start b tc-p2p
    wait_for 300 at_height b 1000
    [ "$(tc-store --datadir b status --json | jq -r .tip_hash)" = \
        "$(tc-store --datadir a status --json | jq -r .tip_hash)" ]
    run tc-p2p --datadir b status --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .height)" = 1000 ]
    wait_for 50 sh -c "tc-p2p --datadir b status --json | jq -e '.syncing == false'"
    grep -q 'sync: applied blocks' b.tc-p2p.log
    run tc-store --datadir b verify
    [ "$status" -eq 0 ]
}

@test "a peer serving blocks certified for another chain is banned and its fork never applied" {
    # The forger holds a's key but keeps a chain of another genesis (same
    # masternodes, another allocation): its certificates sign another chain id.
    mkdir forge
    local bob
    bob=$(tc-keygen new --devnet --out bob.key)
    jq --arg bob "$bob" '.allocations[0].address = $bob' genesis.json >forged.json
    tc-chaingen --genesis forged.json --masternode-key a.key --masternode-key b.key \
        --faucet-key bob.key --blocks 20 >forged.tcx
    tc-store --datadir forge init --genesis forged.json >/dev/null
    tc-store --datadir forge import <forged.tcx >/dev/null 2>&1
    cp a.key forge/masternode.key
    start forge tc-store
    start b tc-store
    start forge tc-p2p --listen "127.0.0.1:$port_a"
    start b tc-p2p
    wait_for 200 banned b "$pub_a"
    grep -q "served block 1 that the store refused" b.tc-p2p.log
    [ "$(height_of b)" = 0 ]
    run tc-store --datadir b verify
    [ "$status" -eq 0 ]
}

@test "a connection with a key outside the registry is refused" {
    start a tc-store
    start a tc-p2p
    mkdir c
    tc-store --datadir c init --genesis genesis.json >/dev/null
    tc-keygen new --devnet --out c/masternode.key >/dev/null
    start c tc-p2p --peer "$pub_a,127.0.0.1:$port_a"
    wait_for 100 sh -c "tc-p2p --datadir a status --json | jq -e '.refused >= 1'"
    # a knows only b; the stranger never shows up, and hears nothing.
    [ "$(tc-p2p --datadir a peers --json | jq length)" = 1 ]
    [ "$(tc-p2p --datadir c status --json | jq -r .connected)" = 0 ]
    [ "$(peer_field c "$pub_a" msgs_in)" = 0 ]
}

@test "a peer that sends a malformed frame is banned at once; ban and unban by hand" {
    start a tc-store
    start a tc-p2p
    # A request for blocks is answered on the connection it came over.
    local get=930100c40894a3676574010101  # [1, 0, ["get", 1, 1, 1]]
    run tc-peerprobe --key b.key --server "$pub_a" --connect "127.0.0.1:$port_a" --send "$get"
    [ "$status" -eq 0 ]
    [ "$output" = blocks ]
    run tc-peerprobe --key b.key --server "$pub_a" --connect "127.0.0.1:$port_a" --send c1
    wait_for 50 banned a "$pub_b"
    grep -q 'banned for 600 s: malformed: frame: not msgpack' a.tc-p2p.log
    # Banned: nothing it sends is answered.
    run tc-peerprobe --key b.key --server "$pub_a" --connect "127.0.0.1:$port_a" --send "$get"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    run tc-p2p --datadir a ban "${pub_b:0:12}" --seconds 0
    [ "$status" -eq 0 ]
    [ "$output" = "unbanned ${pub_b:0:12}" ]
    [ "$(peer_field a "$pub_b" banned_s)" = 0 ]
    run tc-p2p --datadir a ban "${pub_b:0:12}" --seconds 30
    [ "$status" -eq 0 ]
    banned a "$pub_b"
    # A ban outlives a restart of tc-p2p, with the time it has left.
    [ "$(jq -r --arg k "$pub_b" '.bans[] | select(.key == $k) | .reason' a/p2p/bans.json)" = \
        "by request" ]
    kill "${pids[1]}"
    wait "${pids[1]}" || true
    start a tc-p2p
    wait_for 100 tc-p2p --datadir a ping
    banned a "$pub_b"
    [ "$(peer_field a "$pub_b" banned_s)" -le 30 ]
    grep -q "peer ${pub_b:0:16}: still banned for" a.tc-p2p.log
    # Lifted by hand, it stays lifted after the next restart.
    tc-p2p --datadir a ban "$pub_b" --seconds 0 >/dev/null
    [ "$(jq '.bans | length' a/p2p/bans.json)" = 0 ]
    kill "${pids[2]}"
    wait "${pids[2]}" || true
    start a tc-p2p
    wait_for 100 tc-p2p --datadir a ping
    [ "$(peer_field a "$pub_b" banned_s)" = 0 ]
    run tc-p2p --datadir a ban ffff
    [ "$status" -eq 1 ]
    [[ "$output" == *"no peer with key ffff"* ]]
    run tc-p2p --datadir a ban
    [ "$status" -eq 2 ]
}

link_field() { [ "$(peer_field "$1" "$2" "$3")" = true ]; }

@test "links come back by themselves after a ban ends and after a peer restarts" {
    start a tc-store
    start b tc-store
    start a tc-p2p --tip-interval-ms 200
    start b tc-p2p --tip-interval-ms 200
    wait_for 100 link_field b "$pub_a" link_out
    wait_for 100 link_field a "$pub_b" link_out
    # While a bans b, b's reconnections are refused in the handshake.
    tc-p2p --datadir a ban "$pub_b" --seconds 2 >/dev/null
    wait_for 50 sh -c "tc-p2p --datadir a status --json | jq -e '.refused >= 1'"
    wait_for 50 sh -c "[ \"\$(tc-p2p --datadir a peers --json | jq '.[0].banned_s')\" = 0 ]"
    wait_for 100 link_field b "$pub_a" link_out
    wait_for 100 link_field a "$pub_b" link_in
    # a restarts: b's link to it comes back.
    kill "${pids[2]}"
    wait "${pids[2]}" || true
    start a tc-p2p --tip-interval-ms 200
    wait_for 100 link_field a "$pub_b" link_in
    wait_for 100 link_field b "$pub_a" link_out
}

@test "a peer that floods is banned; watch reports it" {
    start a tc-store
    start a tc-p2p --peer-msgs-per-s 10 --ban-score 20
    tc-p2p --datadir a watch >watch.out 2>watch.err &
    pids+=($!)
    wait_for 50 grep -q connected watch.err
    run tc-peerprobe --key b.key --server "$pub_a" --connect "127.0.0.1:$port_a" --tip 0 \
        --count 200 --wait-ms 100
    wait_for 50 banned a "$pub_b"
    grep -q 'flood' a.tc-p2p.log
    wait_for 50 grep -q '"event":"banned"' watch.out
    [ "$(grep '"event":"banned"' watch.out | jq -r .peer)" = "$pub_b" ]
}

@test "tc-p2p: usage errors exit 2, a missing key 1, SIGTERM stops it cleanly" {
    run tc-p2p --datadir a run --peer nonsense
    [ "$status" -eq 2 ]
    [[ "$output" == *"--peer nonsense: expected PUBKEY_HEX,HOST:PORT"* ]]
    run tc-p2p --datadir a run --max-inbound 0
    [ "$status" -eq 2 ]
    run tc-p2p --datadir a run --key missing.key
    [ "$status" -eq 1 ]
    tc-p2p --datadir a run >a.log 2>&1 &
    local pid=$!
    wait_for 50 tc-p2p --datadir a ping
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ]
    grep -q stopped a.log
}
