#!/usr/bin/env bats
# tc-pbft as a user types it: the simulate command.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
}

@test "--help exits 0 and names simulate" {
    run tc-pbft --help
    [ "$status" -eq 0 ]
    [[ "$output" == *simulate* ]]
    run tc-pbft simulate --help
    [ "$status" -eq 0 ]
    [[ "$output" == *--partition* ]]
}

@test "bad flags and fault specs are usage errors on one line" {
    for args in "simulate --nodes 0" "simulate --nodes x" "simulate --loss 1.5" \
        "simulate --bogus" "simulate --partition 10-5:0|1" "simulate --crash 1" \
        "simulate --crash 9@1-2" "simulate --behaviour sneaky --byzantine 1" \
        "simulate --byzantine 5 --nodes 4" "simulate --seeds 9-3" "simulate --heights -1"; do
        run tc-pbft $args
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "tc-pbft: error: "* ]]
    done
}

@test "--json has every field and a correct run exits 0" {
    run tc-pbft simulate --nodes 4 --byzantine 1 --seed 7 --heights 3 --loss 0.05 --json
    [ "$status" -eq 0 ]
    for field in committed_height violations violation_list view_changes messages virtual_ms \
        trace_hash seed nodes byzantine command; do
        [ "$(jq "has(\"$field\")" <<<"$output")" = true ]
    done
    [ "$(jq -r .committed_height <<<"$output")" = 3 ]
    [ "$(jq -r .violations <<<"$output")" = 0 ]
    [ "$(jq -r .trace_hash <<<"$output" | wc -c)" -eq 65 ]
}

@test "the same seed twice gives the same trace hash, another seed another" {
    args="--nodes 4 --byzantine 1 --heights 3 --reorder --duplicate 0.1 --crash 2@100-600 --json"
    a=$(tc-pbft simulate $args --seed 11 | jq -r .trace_hash)
    b=$(tc-pbft simulate $args --seed 11 | jq -r .trace_hash)
    c=$(tc-pbft simulate $args --seed 12 | jq -r .trace_hash)
    [ "$a" = "$b" ]
    [ "$a" != "$c" ]
}

@test "the printed command line reproduces the run" {
    tc-pbft simulate --nodes 7 --byzantine 2 --seed 5 --heights 3 --loss 0.02 \
        --partition '100-900:0,1,2|3,4,5,6' --behaviour twins,equivocate --json >first.json
    cmd=$(jq -r .command first.json)
    [[ "$cmd" == "tc-pbft simulate "* ]]
    eval "$cmd" >second.json
    [ "$(jq -r .trace_hash first.json)" = "$(jq -r .trace_hash second.json)" ]
}

@test "without --json one summary line" {
    run tc-pbft simulate --nodes 1 --heights 2
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "seed 1: 1 nodes, 0 byzantine, height 2/2, 0 violations"* ]]
}

@test "--seeds runs a range and prints one summary" {
    run tc-pbft simulate --seeds 1-20 --heights 2 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .runs <<<"$output")" = 20 ]
    [ "$(jq -r .failed <<<"$output")" = 0 ]
    [ "$(jq -r '.failures | length' <<<"$output")" = 0 ]
}

@test "a violation prints the result, then exits 1 with one error line" {
    # Too few events to finish: the liveness check fails.
    run bash -c 'tc-pbft simulate --nodes 4 --heights 3 --max-events 50 --json 2>err.txt'
    [ "$status" -eq 1 ]
    [ "$(jq -r .violations <<<"$output")" -ge 1 ]
    [ "$(jq -r '.violation_list[0].kind' <<<"$output")" = liveness ]
    [ "$(wc -l <err.txt)" -eq 1 ]
    [[ "$(cat err.txt)" == "tc-pbft: error: "*liveness* ]]
}
