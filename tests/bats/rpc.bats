#!/usr/bin/env bats
# tc-rpc run, the JSON-RPC 2.0 daemon, beside a real tc-store run and tc-pool
# run on a devnet genesis (no tc-pbft: /health says so), and its client.
# Waits are loops with a deadline on a condition, never fixed sleeps.

load helpers

setup() {
    cd "$BATS_TEST_TMPDIR"
    store_pid=""
    pool_pid=""
    rpc_pid=""
    curl_pid=""
    make_genesis "$BATS_TEST_TMPDIR"
    alice=$(cat alice.addr)
    bob=$(tc-keygen new --devnet --out bob.key)
    tc-store init --genesis genesis.json >/dev/null
    coin=$(tc-store utxos "$alice" | cut -d' ' -f1)
}

teardown() {
    for pid in $curl_pid $rpc_pid $pool_pid $store_pid; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

start_stages() {
    tc-store run 2>>store.err &
    store_pid=$!
    wait_for 100 tc-store ping --timeout-ms 200 >/dev/null
    tc-pool run 2>>pool.err &
    pool_pid=$!
    wait_for 100 tc-pool status --timeout-ms 200 >/dev/null
}

start_rpc() {
    rm -f "$TC_DATADIR/run/rpc.url"
    tc-rpc run --listen 127.0.0.1:0 --stage-timeout-ms 300 "$@" 2>>rpc.err &
    rpc_pid=$!
    wait_for 100 test -s "$TC_DATADIR/run/rpc.url"
    url=$(cat "$TC_DATADIR/run/rpc.url")
}

stop_rpc() {
    kill -TERM "$rpc_pid"
    rc=0
    wait "$rpc_pid" || rc=$?
    rpc_pid=""
}

secret() { cut -d: -f2 "$TC_DATADIR/rpc.cookie"; }
# curl with the cookie; extra arguments passed on.
rpc_curl() { curl -s -u "__cookie__:$(secret)" "$@"; }
# post JSON: prints the response body.
rpc_post() { rpc_curl -H 'Content-Type: application/json' --data-binary "$1" "$url/"; }

# A transfer of alice's genesis coin: sign_tx OUT... prints the signed hex.
sign_tx() {
    local args=(--in "$coin")
    for out in "$@"; do args+=(--out "$out"); done
    tc-tx create "${args[@]}" | tc-keygen sign --key alice.key --genesis genesis.json
}

@test "the cookie is 0600 and fresh at each start; SIGTERM exits 0 and removes cookie and url" {
    start_stages
    start_rpc
    [[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]
    [ "$(stat -c %a "$TC_DATADIR/rpc.cookie")" = 600 ]
    grep -Eq '^__cookie__:[0-9a-f]{64}$' "$TC_DATADIR/rpc.cookie"
    first=$(cat "$TC_DATADIR/rpc.cookie")
    stop_rpc
    [ "$rc" -eq 0 ]
    [ ! -e "$TC_DATADIR/rpc.cookie" ]
    [ ! -e "$TC_DATADIR/run/rpc.url" ]
    grep -q stopped rpc.err
    start_rpc
    [ "$(stat -c %a "$TC_DATADIR/rpc.cookie")" = 600 ]
    [ "$(cat "$TC_DATADIR/rpc.cookie")" != "$first" ]
    [ "$(tc-rpc getblockcount)" = 0 ]
}

@test "401 without the cookie or with another; /health needs none and names pbft down" {
    start_stages
    start_rpc
    code=$(curl -s -o body.json -w '%{http_code}' --data-binary \
        '{"jsonrpc":"2.0","id":1,"method":"getblockcount"}' "$url/")
    [ "$code" = 401 ]
    code=$(curl -s -o /dev/null -w '%{http_code}' -u "__cookie__:$(printf '%064d' 0)" \
        --data-binary '{"jsonrpc":"2.0","id":1,"method":"getblockcount"}' "$url/")
    [ "$code" = 401 ]
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/events")
    [ "$code" = 401 ]
    code=$(curl -s -o health.json -w '%{http_code}' "$url/health")
    [ "$code" = 503 ]
    [ "$(jq -r .status health.json)" = unavailable ]
    [ "$(jq -c .stages health.json)" = '{"pbft":false,"pool":true,"store":true}' ]
    # The client with a stale cookie file is refused, exit 1.
    echo "__cookie__:$(printf '%064d' 0)" >stale.cookie
    run tc-rpc --cookie stale.cookie getblockcount
    [ "$status" -eq 1 ]
    [[ "$output" == "tc-rpc: error: $url: 401 unauthorized"* ]]
}

@test "blocks, balances and unspent outputs at genesis" {
    start_stages
    start_rpc
    run tc-rpc getblockcount
    [ "$status" -eq 0 ]
    [ "$output" = 0 ]
    hash=$(tc-rpc getblockhash 0)
    [[ "$hash" =~ ^[0-9a-f]{64}$ ]]
    [ "$(tc-rpc getblock 0 | jq -r .hash)" = "$hash" ]
    [ "$(tc-rpc getblock "$hash" | jq -r .height)" = 0 ]
    [ "$(tc-rpc getblock 0 | jq -c .txids)" = '[]' ]
    run tc-rpc getbalance "$alice"
    [ "$status" -eq 0 ]
    [ "$output" = 1000 ]
    [ "$(tc-rpc getbalance "$bob")" = 0 ]
    [ "$(tc-rpc listunspent "$alice" | jq -r '.[0].txid + ":" + (.[0].vout|tostring)')" = "$coin" ]
    [ "$(tc-rpc listunspent "$alice" | jq -r '.[0].amount')" = 1000 ]
    # The page after the only coin is empty, and the end of the list.
    [ "$(tc-rpc listunspent "$alice" null "$coin" | jq -c .)" = '[]' ]
    run tc-rpc listunspent "$alice" null "${coin%:*}:x"
    [ "$status" -ne 0 ]
    [[ "$output" == *"params[2]: vout"* ]]
    [ "$(tc-rpc getinfo | jq -r '.chain + " " + (.height|tostring) + " " + .network')" = \
        "bats 0 devnet" ]
    [ "$(tc-rpc getinfo | jq -r .pbft)" = null ]
    [ "$(tc-rpc getmasternodes | jq length)" = 1 ]
    [ "$(tc-rpc help | jq -r 'keys | length')" = 14 ]
    run tc-rpc getblock 9
    [ "$status" -eq 1 ]
    [[ "$output" == "tc-rpc: error: "*"(code -5)" ]]
    run tc-rpc getblockhash notanumber
    [ "$status" -eq 1 ]
    [[ "$output" == *"(code -32602)" ]]
}

@test "sendrawtransaction returns the txid, the mempool lists it, /events shows it; a double spend is -26" {
    start_stages
    start_rpc
    curl -sN --max-time 30 -u "__cookie__:$(secret)" "$url/events" >events.out &
    curl_pid=$!
    wait_for 100 grep -q '^: welcome' events.out
    sign_tx "$bob:12.5" "$alice:987.4999" >tx.hex
    txid=$(tc-tx id <tx.hex)
    run tc-rpc sendrawtransaction "$(cat tx.hex)"
    [ "$status" -eq 0 ]
    [ "$output" = "$txid" ]
    [ "$(tc-rpc getrawmempool | jq -r '.[0]')" = "$txid" ]
    [ "$(tc-rpc getmempoolinfo | jq -r .count)" = 1 ]
    wait_for 100 grep -q "\"txid\":\"$txid\"" events.out
    grep -q '^event: tx$' events.out
    line=$(grep "^data: .*$txid" events.out)
    [ "$(jq -r .event <<<"${line#data: }")" = accepted ]
    [ "$(jq -r .seq <<<"${line#data: }")" = 1 ]
    # A second spend of the same coin.
    sign_tx "$bob:13" "$alice:986.9999" >double.hex
    rpc_post "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"sendrawtransaction\",\"params\":[\"$(cat double.hex)\"]}" >double.json
    [ "$(jq -r .error.code double.json)" = -26 ]
    [ "$(jq -r .error.data.reason double.json)" = double-spend ]
    [ "$(jq -r .id double.json)" = 7 ]
    [[ "$(jq -r .error.message double.json)" == "double-spend: "* ]]
    run tc-rpc sendrawtransaction "$(cat double.hex)"
    [ "$status" -eq 1 ]
    [[ "$output" == "tc-rpc: error: double-spend: "*"(code -26)" ]]
}

@test "batches, parse errors, unknown methods and a body over --max-body-bytes" {
    start_stages
    start_rpc --max-body-bytes 2048
    rpc_post '[{"jsonrpc":"2.0","id":1,"method":"getblockcount"},{"jsonrpc":"2.0","id":2,"method":"getblockhash","params":[0]}]' >batch.json
    [ "$(jq length batch.json)" = 2 ]
    [ "$(jq -r '.[0].result' batch.json)" = 0 ]
    [ "$(jq -r '.[1].result' batch.json)" = "$(tc-rpc getblockhash 0)" ]
    [ "$(rpc_post '{"jsonrpc":"2.0","id":1,' | jq -r .error.code)" = -32700 ]
    [ "$(rpc_post '{"jsonrpc":"2.0","id":1,"method":"nope"}' | jq -r .error.code)" = -32601 ]
    [ "$(rpc_post '[]' | jq -r .error.code)" = -32600 ]
    head -c 4096 /dev/zero | tr '\0' ' ' >big.json
    echo '{"jsonrpc":"2.0","id":1,"method":"getblockcount"}' >>big.json
    code=$(rpc_curl -o /dev/null -w '%{http_code}' --data-binary @big.json "$url/")
    [ "$code" = 413 ]
    # The daemon serves on after it.
    [ "$(tc-rpc getblockcount)" = 0 ]
}

@test "a stage that does not answer is -28 naming it; ping; client errors and usage" {
    start_stages
    start_rpc
    kill -TERM "$pool_pid"
    wait "$pool_pid" || true
    pool_pid=""
    run tc-rpc getmempoolinfo
    [ "$status" -eq 1 ]
    [[ "$output" == "tc-rpc: error: pool did not answer"*"(code -28)" ]]
    rpc_post '{"jsonrpc":"2.0","id":1,"method":"getrawmempool"}' >down.json
    [ "$(jq -r .error.data.stage down.json)" = pool ]
    run tc-rpc ping
    [ "$status" -eq 0 ]
    [ "$(jq -r .stages.pool <<<"$output")" = false ]
    stop_rpc
    [ "$rc" -eq 0 ]
    run tc-rpc ping --timeout-ms 500
    [ "$status" -eq 1 ]
    run tc-rpc --rpc-url "$url" --timeout-ms 500 getblockcount
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    run tc-rpc
    [ "$status" -eq 2 ]
    run tc-rpc run --max-batch 0
    [ "$status" -eq 2 ]
    run tc-rpc --bogus getblockcount
    [ "$status" -eq 2 ]
    run tc-rpc run --listen nonsense
    [ "$status" -eq 2 ]
}
