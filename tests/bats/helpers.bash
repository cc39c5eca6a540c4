# Shared set-up for the bats tests: run the programs from $TC_BUILD_DIR/bin,
# else the checkout's build/bin, else PATH (DESIGN §8), each test in its own
# $BATS_TEST_TMPDIR.

top="$(cd "$(dirname "${BATS_TEST_FILENAME}")/../.." && pwd)"
if [ -n "${TC_BUILD_DIR:-}" ]; then
    PATH="$TC_BUILD_DIR/bin:$PATH"
elif [ -d "$top/build/bin" ]; then
    PATH="$top/build/bin:$PATH"
fi
export PATH
export TC_DATADIR="$BATS_TEST_TMPDIR/datadir"
unset TC_CONFIG

# Writes $dir/genesis.json: a devnet (or, with "main" as $2, main-network)
# genesis with one masternode (key $dir/mn.key) and one funded allocation
# to $dir/alice.key; prints nothing.
make_genesis() {
    local dir=$1 network=${2:-devnet} flag=--devnet
    [ "$network" = devnet ] || flag=""
    tc-keygen new $flag --out "$dir/mn.key" >/dev/null
    tc-keygen new $flag --out "$dir/alice.key" >"$dir/alice.addr"
    local mn_pub mn_addr
    mn_pub=$(tc-keygen show --json "$dir/mn.key" | jq -r .public_key)
    mn_addr=$(tc-keygen show --json "$dir/mn.key" | jq -r .address)
    cat >"$dir/genesis.json" <<JSON
{
  "version": 1, "chain": "bats", "network": "$network", "time": "2026-11-24T00:00:00Z",
  "allocations": [{"address": "$(cat "$dir/alice.addr")", "amount": "1000"}],
  "masternodes": [{"public_key": "$mn_pub", "endpoint": "127.0.0.1:7001", "payout": "$mn_addr"}],
  "collateral": "100", "activation_delay": 2, "min_fee_rate": "0.00000001",
  "limits": {"max_block_bytes": 1048576, "max_block_txs": 1000, "max_tx_bytes": 65536},
  "timeouts": {"base_ms": 500, "max_ms": 8000}
}
JSON
}

# A txid-looking hex string for inputs that need not exist offline.
fake_txid() { printf '%064x' "$1"; }

# Keys for the ledger tests, in the current directory: mn.key (the
# masternode), alice.key and bob.key. Sets $alice, $bob, $mn_pub, $mn_addr
# and $mn (the --masternode argument of tc-store genesis).
store_keys() {
    tc-keygen new --devnet --out mn.key >/dev/null
    alice=$(tc-keygen new --devnet --out alice.key)
    bob=$(tc-keygen new --devnet --out bob.key)
    mn_pub=$(tc-keygen show --json mn.key | jq -r .public_key)
    mn_addr=$(tc-keygen show --json mn.key | jq -r .address)
    mn="$mn_pub,127.0.0.1:7001,$mn_addr"
}

# devnet_up DIR [ARGS...]: `scripts/tc-devnet up --dir DIR ARGS`, its
# diagnostics appended to up.err and shown when it fails; sets $faucet to
# the faucet's address.
devnet_up() {
    local dir=$1
    shift
    "$top/scripts/tc-devnet" up --dir "$dir" "$@" 2>>up.err || {
        cat up.err >&2
        return 1
    }
    faucet=$(tc-keygen show --json "$dir/faucet.key" | jq -r .address)
}

# sign_transfer GENESIS COIN KEY OUT...: a transfer of COIN (TXID:VOUT) to
# the outputs OUT (ADDRESS:AMOUNT), signed with KEY for GENESIS's chain, in hex.
sign_transfer() {
    local genesis=$1 coin=$2 key=$3 out
    shift 3
    local args=(--in "$coin")
    for out in "$@"; do args+=(--out "$out"); done
    tc-tx create "${args[@]}" | tc-keygen sign --key "$key" --genesis "$genesis"
}

# devnet_down DIR: `tc-devnet down`, then SIGKILL for every process a pid
# file under DIR still names: nothing may outlive a test, whatever happened
# in it. For teardown.
devnet_down() {
    local dir=$1 f
    "$top/scripts/tc-devnet" down --dir "$dir" 2>/dev/null || true
    for f in "$dir"/node*/run/*.pid; do
        [ -f "$f" ] || continue
        kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
}

# Runs CMD until it succeeds, for at most $1 tenths of a second.
wait_for() {
    local tenths=$1 i
    shift
    for ((i = 0; i < tenths; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    echo "timed out waiting for: $*"
    return 1
}
