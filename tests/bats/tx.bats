#!/usr/bin/env bats
# tc-tx as a user types it.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    bob=$(tc-keygen new --devnet --out bob.key)
}

@test "create then decode shows what was asked for" {
    tc-tx create --in "$(fake_txid 7):3" --out "$bob:12.5" --out "$bob:0.00000001" --expiry 90 >tx.hex
    run tc-tx decode --devnet <tx.hex
    [ "$status" -eq 0 ]
    [ "$(jq -r .inputs[0].vout <<<"$output")" = 3 ]
    [ "$(jq -r .outputs[0].amount <<<"$output")" = "12.5" ]
    [ "$(jq -r .outputs[1].amount <<<"$output")" = "0.00000001" ]
    [ "$(jq -r .outputs[0].address <<<"$output")" = "$bob" ]
    [ "$(jq -r .expiry <<<"$output")" = 90 ]
    [ "$(jq -r .kind <<<"$output")" = transfer ]
    [ "$(jq -r .signed <<<"$output")" = false ]
    [ "$(jq -r .txid <<<"$output")" = "$(tc-tx id <tx.hex)" ]
}

@test "amounts that would round, are negative or overflow are usage errors" {
    for amount in 0.000000001 -1 1e3 184467440737.09551616 ""; do
        run tc-tx create --in "$(fake_txid 1):0" --out "$bob:$amount"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "tc-tx: error: "* ]]
    done
}

@test "a negative or octal-looking expiry is a usage error, not a wrap" {
    for expiry in -5 010 1e3 18446744073709551616; do
        run tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" --expiry "$expiry"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
    done
}

@test "a typo in an address is refused" {
    typo="${bob%?}$([ "${bob: -1}" = q ] && echo p || echo q)"
    run tc-tx create --in "$(fake_txid 1):0" --out "$typo:1"
    [ "$status" -eq 2 ]
    [[ "$output" == *checksum* ]]
}

@test "malformed input on stdin exits 1 naming the problem" {
    run tc-tx decode <<<"zz"
    [ "$status" -eq 1 ]
    [[ "$output" == *"stdin"* ]]
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" >tx.hex
    run tc-tx id <<<"$(cat tx.hex)00"
    [ "$status" -eq 1 ]
    [[ "$output" == *"trailing"* ]]
    run tc-tx id </dev/null
    [ "$status" -eq 1 ]
}

@test "register and retire transactions" {
    pub=$(tc-keygen show --json bob.key | jq -r .public_key)
    tc-tx create --in "$(fake_txid 1):0" --out "$bob:100" --register "$pub,10.0.0.1:7001,$bob" >reg.hex
    [ "$(tc-tx decode --devnet <reg.hex | jq -r .kind)" = register ]
    [ "$(tc-tx decode --devnet <reg.hex | jq -r .masternode.endpoint)" = "10.0.0.1:7001" ]
    tc-tx create --retire "$pub" >retire.hex
    [ "$(tc-tx decode <retire.hex | jq -r .kind)" = retire ]
    run tc-tx create --in "$(fake_txid 1):0" --out "$bob:1" --register "$pub,nohostport,$bob"
    [ "$status" -eq 2 ]
}

@test "--json gives one JSON object a line for create and id" {
    run tc-tx create --json --in "$(fake_txid 7):3" --out "$bob:1"
    [ "$status" -eq 0 ]
    hex=$(jq -r .hex <<<"$output")
    txid=$(jq -r .txid <<<"$output")
    [ "$(tc-tx id <<<"$hex")" = "$txid" ]
    [ "$(tc-tx id --json <<<"$hex" | jq -r .txid)" = "$txid" ]
    [ "$(tc-tx decode --json <<<"$hex" | wc -l)" -eq 1 ]
}

@test "--help and --version exit 0 on stdout" {
    run tc-tx --help
    [ "$status" -eq 0 ]
    [[ "$output" == *create* ]]
    run tc-tx --version
    [ "$status" -eq 0 ]
    [[ "$output" == "tc-tx "* ]]
}
