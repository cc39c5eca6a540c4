#!/usr/bin/env bats
# tc-pbft run as a network replica: four masternodes, each with a real
# tc-store run, tc-pool run and tc-pbft run in its own datadir, linked by
# tc-fake-p2p (tests/tools/fake_p2p.cpp), which binds tc-p2p's local sockets
# in every datadir and relays what one daemon pushes to the others' event
# streams. No network: what is tested is the daemon's side of tc-p2p
# (p2p-send.sock, p2p-events.sock, p2p.sock for status). Waits are loops
# with a deadline on a condition, never fixed sleeps. The genesis endpoints
# are never bound (nothing listens on TCP here).

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    pids=()
    alice=$(tc-keygen new --devnet --out alice.key)
    bob=$(tc-keygen new --devnet --out bob.key)
}

teardown() {
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# make_nodes N: keys, a genesis of N masternodes and N initialised datadirs
# node0..node(N-1); sets keys[i] to node i's public key (hex).
make_nodes() {
    local n=$1 i addr
    local -a mns=()
    keys=()
    for ((i = 0; i < n; i++)); do
        mkdir -p "node$i"
        addr=$(tc-keygen new --devnet --out "node$i/masternode.key")
        keys[i]=$(tc-keygen show --json "node$i/masternode.key" | jq -r .public_key)
        mns+=(--masternode "${keys[i]},127.0.0.1:$((7001 + i)),$addr")
    done
    tc-store genesis --chain bats-p2p --devnet --alloc "$alice:1000" "${mns[@]}" \
        --timeout-base-ms 1000 --time 2026-01-01T00:00:00Z >genesis.json
    for ((i = 0; i < n; i++)); do
        tc-store init --datadir "node$i" --genesis genesis.json >/dev/null
    done
    coin=$(tc-store utxos --datadir node0 "$alice" | cut -d' ' -f1)
}

# start_stage I STAGE [ARGS...]: tc-STAGE run in node I's datadir.
start_stage() {
    local i=$1 stage=$2
    shift 2
    "tc-$stage" run --datadir "node$i" "$@" 2>>"node$i/$stage.err" &
    pids+=($!)
    wait_for 100 "tc-$stage" ping --datadir "node$i" --timeout-ms 200 >/dev/null
}

start_node() {
    start_stage "$1" store
    start_stage "$1" pool
    start_stage "$1" pbft --resend-ms 200
}

# start_hub [FLAGS...]: tc-fake-p2p over every datadir, its lines in hub.out.
start_hub() {
    local -a specs=()
    for ((i = 0; i < ${#keys[@]}; i++)); do specs+=(--node "node$i=${keys[i]}"); done
    tc-fake-p2p "$@" "${specs[@]}" >hub.out 2>hub.err &
    hub_pid=$!
    pids+=($hub_pid)
}

transfer() {
    tc-tx create --in "$coin" --out "$bob:12.5" --out "$alice:987.4999" |
        tc-keygen sign --key alice.key --genesis genesis.json
}

height_of() { tc-store status --datadir "node$1" --json | jq -r .height; }
height_is() { [ "$(height_of "$1")" = "$2" ]; }
pbft_height_is() { [ "$(status_of "$1" | jq -r .height)" = "$2" ]; }
all_at() {
    local i
    for ((i = 0; i < 4; i++)); do [ "$(height_of "$i")" = "$1" ] || return 1; done
}
status_of() { tc-pbft status --datadir "node$1" --json --timeout-ms 10000 --p2p-timeout-ms 5000; }
# The node whose key is the primary of the height and view node 0 decides
# (the set is sorted by key).
primary_node() {
    local i primary
    primary=$(status_of 0 | jq -r .primary)
    local key
    key=$(printf '%s\n' "${keys[@]}" | sort | sed -n "$((primary + 1))p")
    for ((i = 0; i < ${#keys[@]}; i++)); do
        if [ "${keys[i]}" = "$key" ]; then echo "$i"; fi
    done
}

@test "four replicas linked through p2p sockets commit a transfer on one chain" {
    make_nodes 4
    start_hub --down "${keys[3]}"
    for i in 0 1 2 3; do start_node "$i"; done
    # Before any transaction: nothing decided, every vote of height 1
    # missing, and tc-p2p's (the hub's) view of the links.
    s=$(status_of 0)
    [ "$(jq -r .n <<<"$s")" = 4 ]
    [ "$(jq -r .have_pre_prepare <<<"$s")" = false ]
    [ "$(jq -c .missing_prepares <<<"$s")" = "[0,1,2,3]" ]
    [ "$(jq -r '.missing_commit_keys | length' <<<"$s")" = 4 ]
    [ "$(jq -r .p2p <<<"$s")" = ok ]
    [ "$(jq -c .unreachable <<<"$s")" = "[\"${keys[3]}\"]" ]

    # No pool gossip without tc-p2p: the primary's pool gets the transfer;
    # the others check the block against their own ledger.
    transfer | tc-pool submit --datadir "node$(primary_node)" >/dev/null
    wait_for 300 all_at 1
    hash=$(tc-store block --datadir node0 --json 1 | jq -r .hash)
    for i in 1 2 3; do
        [ "$(tc-store block --datadir "node$i" --json 1 | jq -r .hash)" = "$hash" ]
    done
    # Every replica's PREPARE and COMMIT went out through its p2p-send.
    for i in 0 1 2 3; do
        grep -q "^pbft $i all PREPARE 1 " hub.out
        grep -q "^pbft $i all COMMIT 1 " hub.out
    done
    grep -q "^pbft [0-3] all PRE-PREPARE 1 " hub.out
    ! grep -q '^misbehaved' hub.out
    for i in 0 1 2 3; do
        wait_for 50 pbft_height_is "$i" 2
        [ "$(status_of "$i" | jq -r .p2p_in)" -gt 0 ]
    done
    tc-store verify --datadir node2 >/dev/null

    # Without tc-p2p, status says so and still answers.
    kill -TERM "$hub_pid"
    wait "$hub_pid"
    s=$(status_of 0)
    [ "$(jq -r .p2p <<<"$s")" = "no answer" ]
    [ "$(jq -r .unreachable <<<"$s")" = null ]
    run tc-pbft status --datadir node0 --timeout-ms 10000
    [ "$status" -eq 0 ]
    [[ "$output" == *"missing_prepares"* ]]
    [[ "$output" == *"no answer"* ]]
}

@test "a replica started late is sent the decided blocks it lacks" {
    make_nodes 4
    start_hub
    for i in 0 1 2; do start_node "$i"; done
    transfer >tx.hex
    p=$(primary_node)
    if [ "$p" = 3 ]; then
        # Node 3 is the primary: three replicas alone wait for a view
        # change (view 1), whose primary is another node.
        for i in 0 1 2; do tc-pool submit --datadir "node$i" <tx.hex >/dev/null; done
    else
        tc-pool submit --datadir "node$p" <tx.hex >/dev/null
    fi
    # Three of four are a quorum (f = 1): height 1 is committed without node 3.
    wait_for 300 height_is 0 1
    [ "$(height_of 3)" = 0 ]
    start_node 3
    # With the transfer in its pool node 3 works on height 1 (proposes, or
    # asks for a view change when its timer fires); the others, past it,
    # answer with a Decided to it alone.
    tc-pool submit --datadir node3 <tx.hex >/dev/null
    wait_for 300 height_is 3 1
    grep -q '^pbft [0-2] 3 DECIDED 1 ' hub.out
    [ "$(tc-store block --datadir node3 --json 1 | jq -r .hash)" = \
        "$(tc-store block --datadir node0 --json 1 | jq -r .hash)" ]
}

@test "a peer sending a malformed pbft message is reported to tc-p2p for a ban" {
    make_nodes 1
    stranger=$(printf 'ab%.0s' {1..32})
    start_hub --garbage-to 0 --garbage-from "$stranger"
    start_node 0
    wait_for 100 grep -q "^misbehaved 0 $stranger malformed" hub.out
    # n = 1 sends nothing, and the daemon goes on serving.
    ! grep -q '^pbft ' hub.out
    tc-pbft ping --datadir node0 >/dev/null
}

@test "an equivocating masternode's votes are handed to the store, which keeps them in the ledger" {
    make_nodes 4
    # Node 3 equivocates: its tc-pbft never runs; the hub sends node 0 two
    # PREPAREs for height 1, view 0, signed with node 3's key.
    start_hub --equivocate-to 0 --equivocate-key node3/masternode.key
    start_node 0
    stored() { [ "$(tc-store evidence --datadir node0 --json | jq length)" = "$1" ]; }
    held() { [ "$(tc-pbft evidence --datadir node0 --json | jq length)" = "$1" ]; }
    wait_for 100 stored 1
    e=$(tc-store evidence --datadir node0 --json)
    [ "$(jq -r '.[0].phase' <<<"$e")" = PREPARE ]
    [ "$(jq -r '.[0].height' <<<"$e")" = 1 ]
    [ "$(jq -r '.[0].view' <<<"$e")" = 0 ]
    [ "$(jq -r '.[0].key' <<<"$e")" = "${keys[3]}" ]
    grep -q "equivocation evidence stored: PREPARE by masternode" node0/store.err
    # Handed over, pbft holds nothing; the pair sent again and again is one entry.
    wait_for 50 held 0
    [ "$(tc-pbft status --datadir node0 --json | jq -r .evidence)" -ge 1 ]
    stored 1
    # The daemons stopped, the ledger still holds it and verify re-checks it.
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
    tc-store verify --datadir node0 >/dev/null
    run tc-store evidence --datadir node0
    [ "$status" -eq 0 ]
    [ "$output" = "1 0 PREPARE $(jq -r '.[0].replica' <<<"$e") ${keys[3]}" ]
}
