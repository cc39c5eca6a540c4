#!/usr/bin/env bats
# tc-keygen as a user types it.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    make_genesis "$BATS_TEST_TMPDIR"
    bob=$(tc-keygen new --devnet --out bob.key)
}

@test "new key, create, sign, verify: exit 0" {
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:12.5" >unsigned.hex
    tc-keygen sign --key alice.key --genesis genesis.json <unsigned.hex >signed.hex
    run tc-keygen verify --genesis genesis.json <signed.hex
    [ "$status" -eq 0 ]
    [ "$output" = "$(tc-tx id <unsigned.hex)" ]
}

@test "the key file is created 0600 and new prints its address" {
    [ "$(stat -c %a bob.key)" = 600 ]
    [[ "$bob" == tct1* ]]
    run tc-keygen show --json bob.key
    [ "$status" -eq 0 ]
    [ "$(jq -r .address <<<"$output")" = "$bob" ]
    [ "$(jq -r .curve_public <<<"$output" | wc -c)" -eq 41 ]
}

@test "one flipped byte in the signed transaction makes verify exit 1" {
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >unsigned.hex
    tc-keygen sign --key alice.key --genesis genesis.json <unsigned.hex >signed.hex
    hex=$(cat signed.hex)
    # Flip the last hex digit: it lies inside the signature.
    last=${hex: -1}
    flipped=$([ "$last" = 0 ] && echo 1 || echo 0)
    echo "${hex%?}$flipped" >bad.hex
    run tc-keygen verify --genesis genesis.json <bad.hex
    [ "$status" -eq 1 ]
    [[ "$output" == *"bad signature"* ]]
}

@test "a signature for another chain does not verify" {
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >unsigned.hex
    tc-keygen sign --key alice.key --genesis genesis.json <unsigned.hex >signed.hex
    run tc-keygen verify --chain-id "$(printf '%064d' 0)" <signed.hex
    [ "$status" -eq 1 ]
}

@test "an unsigned or half-signed transaction does not verify; --inputs completes it" {
    tc-tx create --in "$(fake_txid 1):0" --in "$(fake_txid 2):1" --out "$bob:1" >unsigned.hex
    run tc-keygen verify --genesis genesis.json <unsigned.hex
    [ "$status" -eq 1 ]
    tc-keygen sign --key alice.key --genesis genesis.json --inputs 1 <unsigned.hex >half.hex
    run tc-keygen verify --genesis genesis.json <half.hex
    [ "$status" -eq 1 ]
    [[ "$output" == *"witnesses[0]"* ]]
    tc-keygen sign --key alice.key --genesis genesis.json --inputs 0 <half.hex >full.hex
    run tc-keygen verify --genesis genesis.json <full.hex
    [ "$status" -eq 0 ]
}

@test "a bad flag exits 2 with a one-line reason" {
    run tc-keygen sign --key alice.key --no-such-flag
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "tc-keygen: error: "* ]]
    run tc-keygen sign --key alice.key --genesis genesis.json --chain-id 00
    [ "$status" -eq 2 ]
    run tc-keygen
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "a world-readable key file is refused" {
    chmod 644 alice.key
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >unsigned.hex
    run tc-keygen sign --key alice.key --genesis genesis.json <unsigned.hex
    [ "$status" -eq 1 ]
    [[ "$output" == *"too open"* ]]
    [ "${#lines[@]}" -eq 1 ]
}

@test "new without --out writes DATADIR/node.key in a private datadir" {
    addr=$(tc-keygen new --devnet)
    [ "$(stat -c %a "$TC_DATADIR")" = 700 ]
    [ "$(tc-keygen show --json "$TC_DATADIR/node.key" | jq -r .address)" = "$addr" ]
    run tc-keygen new --devnet
    [ "$status" -eq 1 ]
    [[ "$output" == *"already exists"* ]]
}

@test "an existing key file is never overwritten" {
    before=$(tc-keygen show --json bob.key | jq -r .public_key)
    run tc-keygen new --devnet --out bob.key
    [ "$status" -eq 1 ]
    [ "$(tc-keygen show --json bob.key | jq -r .public_key)" = "$before" ]
}

@test "an encrypted key needs its passphrase" {
    printf 'correct horse\n' >pass
    chmod 600 pass
    carol=$(tc-keygen new --devnet --out carol.key --passphrase-file pass)
    tc-tx create --in "$(fake_txid 3):0" --out "$bob:1" >unsigned.hex
    run tc-keygen sign --key carol.key --genesis genesis.json <unsigned.hex
    [ "$status" -eq 2 ]
    [[ "$output" == *"passphrase"* ]]
    printf 'wrong\n' >wrong
    chmod 600 wrong
    run tc-keygen sign --key carol.key --genesis genesis.json --passphrase-file wrong <unsigned.hex
    [ "$status" -eq 1 ]
    tc-keygen sign --key carol.key --genesis genesis.json --passphrase-file pass <unsigned.hex >signed.hex
    tc-keygen verify --genesis genesis.json <signed.hex
    [ "$(tc-keygen show --json carol.key | jq -r .address)" = "$carol" ]
}

@test "sign-message and verify-message" {
    sig=$(tc-keygen sign-message --key bob.key "hello")
    run tc-keygen verify-message "$bob" "$sig" "hello"
    [ "$status" -eq 0 ]
    run tc-keygen verify-message "$bob" "$sig" "hellO"
    [ "$status" -eq 1 ]
    run tc-keygen verify-message "$(cat alice.addr)" "$sig" "hello"
    [ "$status" -eq 1 ]
}

@test "a devnet key is refused for a main-network genesis" {
    mkdir main
    make_genesis "$BATS_TEST_TMPDIR/main" main
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >unsigned.hex
    run tc-keygen sign --key alice.key --genesis main/genesis.json <unsigned.hex
    [ "$status" -eq 2 ]
    [[ "$output" == *"devnet key for a main-network chain"* ]]
    # The main-network key signs for its own chain.
    tc-keygen sign --key main/alice.key --genesis main/genesis.json <unsigned.hex >signed.hex
    tc-keygen verify --genesis main/genesis.json <signed.hex
}
