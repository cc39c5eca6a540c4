#!/usr/bin/env bats
# The ledger's single writer killed with SIGKILL at random points: after
# each kill, verify passes and every block that was acknowledged is there.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_keys
    tc-store genesis --chain crash --devnet --alloc "$alice:1000000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >genesis.json
    tc-store init --genesis genesis.json >/dev/null
}

height() { tc-store status --json | jq -r .height; }

@test "import killed with SIGKILL at random points loses no acknowledged block" {
    blocks=600
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks "$blocks" --txs-per-block 2 --to "$bob" >chain.tcx
    acked=0
    for round in 1 2 3 4 5 6 7 8; do
        tc-store import <chain.tcx >/dev/null 2>import.err &
        pid=$!
        # A random kill point, not a timing assertion: what is checked below
        # holds wherever the kill lands.
        sleep "0.$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        # import reports "block N" only after block N is committed.
        last=$(grep -o 'import: block [0-9]*' import.err | tail -1 | grep -o '[0-9]*$' || true)
        [ -z "$last" ] || [ "$last" -le "$acked" ] || acked=$last
        h=$(height)
        echo "round $round: height $h, acknowledged $acked"
        [ "$h" -ge "$acked" ]
        run tc-store verify
        [ "$status" -eq 0 ] || { echo "$output"; false; }
        acked=$h
    done
    tc-store import <chain.tcx >/dev/null
    [ "$(height)" -eq "$blocks" ]
    tc-store verify
}
