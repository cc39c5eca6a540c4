#!/usr/bin/env bats
# tc-store as an operator types it: genesis, init, the read commands,
# verify, export and import.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_keys
}

# One line on stderr, "tc-store: error: ...", and the given exit status.
# Progress lines (verify, import) come before it; the error is the last line.
refused() {
    local want=$1
    shift
    run "$@"
    [ "$status" -eq "$want" ] || { echo "exit $status, want $want: $output"; return 1; }
    [[ "${lines[-1]}" == "tc-store: error: "* ]] || { echo "$output"; return 1; }
}

# A ledger in $TC_DATADIR from a devnet genesis that gives alice 1000 TIME,
# and chain.tcx: $1 blocks (default 20) of at most $2 transfers (default 4),
# each paying bob 1.5 TIME, with summary.json (see tests/tools/chaingen.cpp).
make_chain() {
    tc-store genesis --chain bats --devnet --alloc "$alice:1000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >genesis.json
    tc-store init --genesis genesis.json >/dev/null
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks "${1:-20}" --txs-per-block "${2:-4}" --to "$bob" --amount 1.5 \
        --summary summary.json >chain.tcx
}

height() { tc-store status --json | jq -r .height; }

# Offset of record N's length field in an export stream.
record_offset() {
    local file=$1 n=$2 off=41 i len
    for ((i = 1; i < n; i++)); do
        len=$(od -An -tu4 --endian=big -j "$off" -N4 "$file" | tr -d ' ')
        off=$((off + 4 + len))
    done
    echo "$off"
}

record_length() {
    od -An -tu4 --endian=big -j "$(record_offset "$1" "$2")" -N4 "$1" | tr -d ' '
}

# Flips the lowest bit of the byte at OFFSET in FILE, in place.
flip_byte() {
    local file=$1 offset=$2 byte
    byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
    printf "\\$(printf '%03o' $((byte ^ 1)))" |
        dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# --- genesis ---------------------------------------------------------------

@test "genesis: a made genesis is accepted by tc-keygen sign --genesis" {
    tc-store genesis --chain bats --devnet --alloc "$alice:1000" --alloc "$bob:0.5" \
        --masternode "$mn" --time 2026-11-24T00:00:00Z >genesis.json
    [ "$(jq -r .chain genesis.json)" = bats ]
    [ "$(jq -r .network genesis.json)" = devnet ]
    [ "$(jq -r .time genesis.json)" = 2026-11-24T00:00:00Z ]
    [ "$(jq -r '.allocations[1].amount' genesis.json)" = 0.5 ]
    [ "$(jq -r '.masternodes[0].public_key' genesis.json)" = "$mn_pub" ]
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >unsigned.hex
    tc-keygen sign --key alice.key --genesis genesis.json <unsigned.hex >signed.hex
    run tc-keygen verify --genesis genesis.json <signed.hex
    [ "$status" -eq 0 ]
}

@test "genesis: the same flags give the same chain; the time defaults to now, to the second" {
    tc-store genesis --chain c --devnet --masternode "$mn" --time 2026-01-02T03:04:05Z >a.json
    tc-store genesis --chain c --devnet --masternode "$mn" --time 2026-01-02T03:04:05Z >b.json
    cmp a.json b.json
    tc-store genesis --chain c --devnet --masternode "$mn" >now.json
    [[ "$(jq -r .time now.json)" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}Z$ ]]
    run tc-store genesis --json --chain c --devnet --masternode "$mn" --time 2026-01-02T03:04:05Z
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(jq -S . <<<"$output")" = "$(jq -S . a.json)" ]
}

@test "genesis: every option lands in the file" {
    tc-store genesis --chain opts --devnet --masternode "$mn" --collateral 250.5 \
        --activation-delay 3 --min-fee-rate 0.00000002 --max-block-bytes 65536 \
        --max-block-txs 100 --max-tx-bytes 4096 --timeout-base-ms 200 --timeout-max-ms 3000 \
        >genesis.json
    [ "$(jq -r .collateral genesis.json)" = 250.5 ]
    [ "$(jq -r .activation_delay genesis.json)" = 3 ]
    [ "$(jq -r .min_fee_rate genesis.json)" = 0.00000002 ]
    [ "$(jq -c .limits genesis.json)" = '{"max_block_bytes":65536,"max_block_txs":100,"max_tx_bytes":4096}' ]
    [ "$(jq -c .timeouts genesis.json)" = '{"base_ms":200,"max_ms":3000}' ]
}

@test "genesis: bad amounts, addresses, keys and limits are usage errors naming the argument" {
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --alloc "$alice:1.000000001"
    [[ "$output" == *"--alloc $alice:1.000000001"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --alloc "$alice:-1"
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --alloc "$alice"
    [[ "$output" == *"ADDRESS:AMOUNT"* ]]
    # One character changed (never to itself: an address may end in x).
    local typo="${alice%?}$([ "${alice: -1}" = x ] && echo y || echo x)"
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --alloc "$typo:1"
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --alloc "$alice:1" --alloc "$alice:2"
    [[ "$output" == *"listed twice"* ]]
    # A devnet address on a main-network chain.
    refused 2 tc-store genesis --chain c --masternode "$mn"
    [[ "$output" == *"--masternode"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "00$mn_pub,127.0.0.1:1,$mn_addr"
    [[ "$output" == *"public key"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn_pub,127.0.0.1:0,$mn_addr"
    [[ "$output" == *"endpoint"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn_pub,$mn_addr"
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --masternode "$mn"
    refused 2 tc-store genesis --chain Caps --devnet --masternode "$mn"
    [[ "$output" == *"--chain"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --collateral 0
    [[ "$output" == *"--collateral"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --max-tx-bytes 10
    [[ "$output" == *"--max-tx-bytes"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --activation-delay 0
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --timeout-base-ms 500 --timeout-max-ms 100
    [[ "$output" == *"--timeout-max-ms"* ]]
    refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --time 2026-02-30T00:00:00Z
    [[ "$output" == *"--time"* ]]
    for n in -5 010 1e3 18446744073709551616; do
        refused 2 tc-store genesis --chain c --devnet --masternode "$mn" --max-block-txs "$n"
    done
    refused 2 tc-store genesis --chain c --devnet
    refused 2 tc-store genesis --devnet --masternode "$mn"
}

# --- init and the read commands ----------------------------------------------

@test "init creates the ledger; status shows the genesis" {
    make_chain 1
    [ -f "$TC_DATADIR/ledger/data.mdb" ]
    run tc-store status
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^chain\ +bats$ ]]
    [[ "$output" == *$'\n'"height         0"$'\n'* ]]
    run tc-store status --json
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(jq -r .chain <<<"$output")" = bats ]
    [ "$(jq -r .network <<<"$output")" = devnet ]
    [ "$(jq -r .height <<<"$output")" = 0 ]
    [ "$(jq -r .supply <<<"$output")" = 1000 ]
    [ "$(jq -r .genesis_supply <<<"$output")" = 1000 ]
    [ "$(jq -r .fees_burned <<<"$output")" = 0 ]
    [ "$(jq -r .chain_id <<<"$output")" = "$(tc-store init --json --genesis genesis.json \
        --datadir other | jq -r .chain_id)" ]
    run tc-store balance "$alice"
    [ "$status" -eq 0 ]
    [[ "$output" == *"total          1000"* ]]
    # No evidence on a new chain: nothing, or [].
    run tc-store evidence
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(tc-store evidence --json)" = "[]" ]
}

@test "a second init is refused, as is another chain's genesis" {
    make_chain 1
    refused 1 tc-store init --genesis genesis.json
    [[ "$output" == *bats* ]]
    tc-store genesis --chain other --devnet --masternode "$mn" >other.json
    refused 1 tc-store init --genesis other.json
    [[ "$output" == *bats* ]]
    [ "$(tc-store status --json | jq -r .chain)" = bats ]
}

@test "init with a missing or invalid genesis file fails naming it" {
    refused 1 tc-store init --genesis nope.json
    [[ "$output" == *nope.json* ]]
    echo '{"version": 1}' >bad.json
    refused 1 tc-store init --genesis bad.json
    [[ "$output" == *bad.json* ]]
    refused 2 tc-store init
}

@test "every read command on a datadir without a ledger: exit 1, run init" {
    for cmd in status "block 0" "tx $(fake_txid 1)" "utxos $alice" "balance $alice" evidence verify \
        export; do
        refused 1 tc-store $cmd
        [ "${lines[-1]}" = "tc-store: error: $TC_DATADIR/ledger: no ledger (run tc-store init --genesis FILE)" ]
    done
    refused 1 tc-store import <"$BATS_TEST_FILENAME"
    [[ "$output" == *"no ledger"* ]]
}

@test "a foreign file at DATADIR/ledger/data.mdb, or at DATADIR/ledger: exit 1, one line" {
    mkdir -p "$TC_DATADIR/ledger"
    head -c 65536 /dev/urandom >"$TC_DATADIR/ledger/data.mdb"
    for cmd in status verify "block 0"; do
        refused 1 tc-store $cmd
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"$TC_DATADIR/ledger"* ]]
    done
    rm -r "$TC_DATADIR/ledger"
    echo hello >"$TC_DATADIR/ledger"
    refused 1 tc-store status
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"not a directory"* ]]
}

# --- import, verify, export ----------------------------------------------------

@test "import a generated chain: height, balances, supply, verify" {
    make_chain 20 4
    run tc-store import <chain.tcx
    [ "$status" -eq 0 ]
    [[ "$output" == *"applied        20"* ]]
    [[ "$output" == *"skipped        0"* ]]
    [ "$(height)" = 20 ]
    [ "$(tc-store status --json | jq -r .tip_hash)" = "$(jq -r .tip_hash summary.json)" ]
    [ "$(tc-store status --json | jq -r .tx_count)" = "$(jq -r .txs summary.json)" ]
    [ "$(tc-store status --json | jq -r .fees_burned)" = "$(jq -r .fees summary.json)" ]
    [ "$(tc-store balance --json "$bob" | jq -r .total)" = "$(jq -r ".received[\"$bob\"]" summary.json)" ]
    [ "$(tc-store balance --json "$alice" | jq -r .total)" = "$(jq -r .faucet_balance summary.json)" ]
    [ "$(tc-store balance --json "$alice" | jq -r .utxos)" = "$(jq -r .faucet_utxos summary.json)" ]
    run tc-store verify
    [ "$status" -eq 0 ]
    [ "$output" = "ok 20 $(jq -r .tip_hash summary.json)" ]
    run tc-store verify --json
    [ "$(jq -r .ok <<<"$output")" = true ]
}

@test "import --batch: one durable commit per batch; a long import reports progress and its rate" {
    make_chain 1
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks 1100 --txs-per-block 1 --to "$bob" --amount 0.01 >long.tcx
    run tc-store import --batch 100 <long.tcx
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # Progress comes after a committed batch: the first at or past 1000.
    [[ "${lines[0]}" =~ ^tc-store:\ import:\ block\ 1000\ \([0-9]+\ blocks/s\)$ ]] ||
        { echo "$output"; false; }
    [[ "$output" == *"applied        1100"* ]]
    [ "$(height)" = 1100 ]
    tc-store verify
    refused 2 tc-store import --batch 0 <long.tcx
}

@test "import: a refused block in a batch leaves the blocks before it applied" {
    make_chain 6 3
    # Block 4's certificate no longer checks; blocks 1..3 share its batch.
    cp chain.tcx cert.tcx
    flip_byte cert.tcx $(($(record_offset cert.tcx 4) + 4 + $(record_length cert.tcx 4) - 1))
    refused 1 tc-store import --batch 64 <cert.tcx
    [[ "$output" == *"record 4"* ]]
    [ "$(height)" = 3 ]
    tc-store verify
}

@test "export | import into a second datadir gives the same chain, byte for byte" {
    make_chain 12 3
    tc-store import <chain.tcx >/dev/null
    tc-store export >exported.tcx
    cmp chain.tcx exported.tcx
    tc-store init --datadir second --genesis genesis.json >/dev/null
    tc-store export | tc-store import --datadir second >/dev/null
    [ "$(tc-store status --json --datadir second | jq -c '{height, tip_hash, supply, utxo_count}')" = \
      "$(tc-store status --json | jq -c '{height, tip_hash, supply, utxo_count}')" ]
    tc-store verify --datadir second
    # Exporting an empty chain gives a header and the end marker.
    tc-store init --datadir third --genesis genesis.json >/dev/null
    tc-store export --datadir third >empty.tcx
    [ "$(stat -c %s empty.tcx)" -eq 45 ]
    [ "$(head -c 8 empty.tcx)" = TCEXPORT ]
}

@test "a truncated stream is refused with what came applied; the full import resumes" {
    make_chain 10 2
    size=$(stat -c %s chain.tcx)
    head -c $((size - 100)) chain.tcx >part.tcx
    refused 1 tc-store import <part.tcx
    [[ "${lines[-1]}" == *truncated* ]]
    [[ "${lines[-1]}" == *"record 10"* ]]
    [ "$(height)" = 9 ]
    run tc-store import <chain.tcx
    [ "$status" -eq 0 ]
    [[ "$output" == *"applied        1"* ]]
    [[ "$output" == *"skipped        9"* ]]
    [ "$(height)" = 10 ]
    # Without the end marker: every block is there, the stream is still refused.
    head -c $((size - 4)) chain.tcx >nomarker.tcx
    refused 1 tc-store import <nomarker.tcx
    [[ "$output" == *"without the end marker"* ]]
    refused 1 tc-store import <<<""
    head -c 20 chain.tcx >header.tcx
    refused 1 tc-store import <header.tcx
    [[ "$output" == *truncated* ]]
    tc-store verify
}

@test "trailing bytes, a bad magic, another version or another chain are refused" {
    make_chain 2 1
    { cat chain.tcx; printf 'x'; } >trailing.tcx
    refused 1 tc-store import <trailing.tcx
    [[ "$output" == *"1 trailing bytes after the end marker"* ]]
    { printf 'TCEXPORX'; tail -c +9 chain.tcx; } >magic.tcx
    refused 1 tc-store import <magic.tcx
    [[ "$output" == *"not a tc-store export"* ]]
    cp chain.tcx version.tcx
    printf '\002' | dd of=version.tcx bs=1 seek=8 conv=notrunc status=none
    refused 1 tc-store import <version.tcx
    [[ "$output" == *"unknown export version 2"* ]]
    tc-store genesis --chain other --devnet --alloc "$alice:1000" --masternode "$mn" \
        --time 2026-01-01T00:00:00Z >other.json
    tc-store init --datadir other --genesis other.json >/dev/null
    refused 1 tc-store import --datadir other <chain.tcx
    [[ "$output" == *"chain other"* ]]
    [ "$(tc-store status --datadir other --json | jq -r .height)" = 0 ]
}

@test "a flipped byte in a block is refused, and that block and those after it are not applied" {
    make_chain 6 3
    # The last byte of record 1 lies in its certificate's last signature.
    cp chain.tcx cert.tcx
    flip_byte cert.tcx $(($(record_offset cert.tcx 1) + 4 + $(record_length cert.tcx 1) - 1))
    refused 1 tc-store import <cert.tcx
    [[ "$output" == *"record 1"* ]]
    [ "$(height)" = 0 ]
    # A byte in the middle of record 4 lies in its block.
    cp chain.tcx block.tcx
    flip_byte block.tcx $(($(record_offset block.tcx 4) + 4 + $(record_length block.tcx 4) / 2))
    refused 1 tc-store import <block.tcx
    [[ "$output" == *"record 4"* ]]
    [ "$(height)" = 3 ]
    tc-store verify
    tc-store import <chain.tcx >/dev/null
    [ "$(height)" = 6 ]
}

@test "a different chain from the same genesis is refused as a fork naming the height" {
    make_chain 5 2
    tc-store import <chain.tcx >/dev/null
    tc-chaingen --genesis genesis.json --masternode-key mn.key --faucet-key alice.key \
        --blocks 5 --txs-per-block 2 --to "$bob" --amount 2 >fork.tcx
    refused 1 tc-store import <fork.tcx
    [[ "$output" == *"block 1"*fork* ]]
    [ "$(tc-store status --json | jq -r .tip_hash)" = "$(jq -r .tip_hash summary.json)" ]
}

@test "block, tx, utxos and balance print what the man page says" {
    make_chain 4 3
    tc-store import <chain.tcx >/dev/null
    run tc-store block 2
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^hash\ +[0-9a-f]{64}$ ]]
    [[ "${lines[1]}" =~ ^height\ +2$ ]]
    hash=$(awk '$1 == "hash" {print $2}' <<<"$output")
    ntx=$(awk '$1 == "tx_count" {print $2}' <<<"$output")
    [ "$ntx" -ge 1 ]
    [ "$(grep -c '^txid ' <<<"$output")" -eq "$ntx" ]
    [ "$(tc-store block "$hash")" = "$output" ]
    run tc-store block --json 2
    [ "${#lines[@]}" -eq 1 ]
    [ "$(jq -r .hash <<<"$output")" = "$hash" ]
    [ "$(jq -r .height <<<"$output")" = 2 ]
    [ "$(jq -r '.txs | length' <<<"$output")" = "$ntx" ]
    [ "$(jq -r '.txids[0]' <<<"$output")" = "$(jq -r '.txs[0].txid' <<<"$output")" ]
    [ "$(jq -r '.certificate.signers[0]' <<<"$output")" = 0 ]
    [ "$(tc-store block --json 3 | jq -r .prev_hash)" = "$hash" ]
    [ "$(tc-store block --json 0 | jq -r .certificate)" = null ]
    txid=$(tc-store block --json 2 | jq -r '.txids[0]')

    run tc-store tx "$txid"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^txid\ +$txid$ ]]
    [[ "$output" == *$'\n'"block_hash     $hash"$'\n'* ]]
    [[ "$output" == *$'\n'"height         2"$'\n'* ]]
    [[ "$output" == *$'\n'"position       0"$'\n'* ]]
    [[ "$output" == *$'\n'"output         1.5 $bob"$'\n'* ]]
    run tc-store tx --json "$txid"
    [ "$(jq -r .height <<<"$output")" = 2 ]
    [ "$(jq -r .tx.outputs[0].address <<<"$output")" = "$bob" ]
    refused 1 tc-store tx "$(fake_txid 1)"
    [[ "$output" == *"not in the ledger"* ]]

    run tc-store utxos "$bob"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq "$(jq -r .txs summary.json)" ]
    for line in "${lines[@]}"; do
        [[ "$line" =~ ^[0-9a-f]{64}:0\ 1\.5\ [1-4]$ ]]
    done
    run tc-store utxos --limit 2 "$bob"
    [ "${#lines[@]}" -eq 2 ]
    run tc-store utxos --json --limit 2 "$bob"
    [ "$(jq -r .truncated <<<"$output")" = true ]
    [ "$(jq -r '.utxos | length' <<<"$output")" = 2 ]
    [ "$(jq -r '.utxos[0].amount' <<<"$output")" = 1.5 ]
    run tc-store utxos "$(tc-keygen new --devnet --out carol.key)"
    [ "$status" -eq 0 ]
    [ -z "$output" ]

    run tc-store balance "$bob"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "address        $bob" ]
    [ "${lines[1]}" = "spendable      $(jq -r ".received[\"$bob\"]" summary.json)" ]
    [ "${lines[2]}" = "locked         0" ]
}

@test "bad flags and arguments exit 2 with one line" {
    make_chain 1
    refused 2 tc-store
    [ "${#lines[@]}" -eq 1 ]
    refused 2 tc-store status --bogus
    [ "${#lines[@]}" -eq 1 ]
    refused 2 tc-store frobnicate
    refused 2 tc-store block
    refused 2 tc-store block abc
    refused 2 tc-store block -1
    refused 2 tc-store tx 12
    refused 2 tc-store utxos tct1notanaddress
    refused 2 tc-store utxos --limit -1 "$bob"
    refused 2 tc-store balance "$(tc-keygen new --out main.key)"
    [[ "$output" == *"main-network"* ]]
    refused 1 tc-store block 99
    run tc-store --version
    [ "$status" -eq 0 ]
    [[ "$output" == "tc-store "* ]]
}
