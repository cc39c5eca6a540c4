#!/usr/bin/env bats
# The long chaos run of issue 7, only with TC_LONG=1 (root, iproute2):
# TC_CHAOS_NODES masternodes (10), each in a network namespace of its own
# joined by veth pairs to a bridge, every link with loss and delay (tc
# netem; on a kernel without sch_netem, loss by iptables' statistic match
# and a tbf rate limit instead, and no added delay: the run says so);
# TC_CHAOS_MINUTES (30) of load through node 1 while random nodes
# (never more than f at once) are SIGKILLed and restarted. At the end every
# node is on one chain (the same hash at the lowest tip, every block
# certified) and `tc-store verify` passes on each.

load helpers

nodes=${TC_CHAOS_NODES:-10}
minutes=${TC_CHAOS_MINUTES:-30}
netem=${TC_CHAOS_NETEM:-delay 20ms 10ms loss 1%}
loss=${TC_CHAOS_LOSS:-0.01}   # without netem: iptables drops this share
rate=${TC_CHAOS_RATE:-20mbit} # without netem: tbf limits each link to this
hub=tcchaos-hub
faucets=${TC_CHAOS_FAUCETS:-8}

setup() {
    [ "${TC_LONG:-0}" = 1 ] || skip "TC_LONG=1 runs the chaos test"
    [ "$(id -u)" = 0 ] || skip "needs root for ip netns"
    cd "$BATS_TEST_TMPDIR"
}

teardown() {
    [ "${TC_LONG:-0}" = 1 ] || return 0
    local i
    for ((i = 1; i <= nodes; i++)); do
        stop_node "$i" 2>/dev/null || true
        ip netns del "tcchaos-$i" 2>/dev/null || true
    done
    ip netns del "$hub" 2>/dev/null || true
}

ns() { echo "tcchaos-$1"; }
in_ns() {
    local i=$1
    shift
    ip netns exec "$(ns "$i")" "$@"
}

make_network() {
    local i
    ip netns add "$hub"
    ip -n "$hub" link add br0 type bridge
    ip -n "$hub" link set br0 up
    for ((i = 1; i <= nodes; i++)); do
        ip netns add "$(ns "$i")"
        ip -n "$hub" link add "h$i" type veth peer name eth0 netns "$(ns "$i")"
        ip -n "$hub" link set "h$i" master br0 up
        ip -n "$(ns "$i")" addr add "10.77.0.$i/24" dev eth0
        ip -n "$(ns "$i")" link set eth0 up
        ip -n "$(ns "$i")" link set lo up
        shape "$i"
    done
}

# Loss and delay on node $1's link: netem when the kernel has it, else
# iptables drops (loss) and tbf (a rate limit; no delay).
shape() {
    # shellcheck disable=SC2086
    if in_ns "$1" tc qdisc add dev eth0 root netem $netem 2>/dev/null; then
        echo "node $1: netem $netem" >>chaos.log
        return
    fi
    in_ns "$1" iptables -A INPUT -i eth0 -m statistic --mode random --probability "$loss" -j DROP
    in_ns "$1" tc qdisc add dev eth0 root tbf rate "$rate" burst 64kbit latency 200ms
    echo "node $1: no sch_netem in this kernel: iptables loss $loss, tbf $rate, no delay" >>chaos.log
}

make_nodes() {
    local i pub addr
    local -a mns=() allocs=()
    # Several faucets, used in turn: every tc-load run leaves change outputs
    # on its faucet, which the next run reads page by page; eight keep each
    # faucet's list short.
    for ((i = 1; i <= faucets; i++)); do
        allocs+=(--alloc "$(tc-keygen new --devnet --out "faucet$i.key"):1000000")
    done
    for ((i = 1; i <= nodes; i++)); do
        mkdir -p "node$i"
        addr=$(tc-keygen new --devnet --out "node$i/masternode.key")
        pub=$(tc-keygen show --json "node$i/masternode.key" | jq -r .public_key)
        mns+=(--masternode "$pub,10.77.0.$i:7000,$addr")
        printf '[rpc]\nlisten = "127.0.0.1:0"\n' >"node$i/timecoin.toml"
    done
    tc-store genesis --chain chaos --devnet "${allocs[@]}" "${mns[@]}" >genesis.json
    for ((i = 1; i <= nodes; i++)); do
        tc-store --datadir "node$i" init --genesis genesis.json >/dev/null
    done
}

start_node() { in_ns "$1" "$top/scripts/tc-masternode" start --datadir "$PWD/node$1" >/dev/null; }
stop_node() { in_ns "$1" "$top/scripts/tc-masternode" stop --datadir "$PWD/node$1" >/dev/null; }
kill_node() { pkill -KILL -f -- "--datadir $PWD/node$1( |$)" || true; }
height() { tc-store --datadir "node$1" status --json 2>/dev/null | jq -r .height; }

@test "chaos: $nodes masternodes in network namespaces, lossy links, kills: one chain" {
    make_network
    make_nodes
    local i f=$(((nodes - 1) / 3))
    for ((i = 1; i <= nodes; i++)); do start_node "$i"; done
    local url
    url=$(cat node1/run/rpc.url)
    local end=$((SECONDS + minutes * 60)) killed=() round=0
    while ((SECONDS < end)); do
        round=$((round + 1))
        # Load for a while through node 1 (never killed), paced.
        in_ns 1 tc-load --rpc-url "$url" --faucet-key "faucet$((round % faucets + 1)).key" \
            --rate 50 --count 1500 \
            --datadir "$PWD/node1" >"load.$round.json" 2>>load.err || {
            # A run cut short by a kill is fine; one that cannot plan is not.
            if tail -1 load.err | grep -q 'too little for'; then
                tail -1 load.err
                return 1
            fi
        }
        # Restart what was killed, kill up to f others (not node 1).
        for i in "${killed[@]}"; do start_node "$i"; done
        killed=()
        local k=$((RANDOM % (f + 1))) victim
        while ((${#killed[@]} < k)); do
            victim=$((2 + RANDOM % (nodes - 1)))
            [[ " ${killed[*]} " == *" $victim "* ]] && continue
            kill_node "$victim"
            killed+=("$victim")
        done
        echo "round $round: killed ${killed[*]:-none}" >>chaos.log
    done
    for i in "${killed[@]}"; do start_node "$i"; done
    # Everyone reaches node 1's height of now, then holds its block.
    local target
    target=$(height 1)
    for ((i = 1; i <= nodes; i++)); do
        wait_for 3000 sh -c "[ \"\$(tc-store --datadir node$i status --json | jq -r .height)\" -ge $target ]"
    done
    local hash
    hash=$(tc-store --datadir node1 block "$target" --json | jq -r .hash)
    for ((i = 1; i <= nodes; i++)); do
        [ "$(tc-store --datadir "node$i" block "$target" --json | jq -r .hash)" = "$hash" ]
        stop_node "$i"
        tc-store --datadir "node$i" verify >/dev/null
    done
    echo "# chaos: $round rounds, height $target on all $nodes nodes; $(sort -u chaos.log | grep -m1 'node 1:')" >&3
    cp chaos.log "${TC_CHAOS_LOG:-/dev/null}" 2>/dev/null || true
}
