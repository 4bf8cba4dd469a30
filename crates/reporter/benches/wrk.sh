#!/usr/bin/env bash
# Loopback throughput: axum bare, with a no-op layer, with the mayday layer, with
# sentry-tower; axum logging one info! per request without and with the mayday tracing
# layer; actix-web bare, with the mayday middleware, with sentry-actix.
# Each variant runs ROUNDS times, interleaved, for DURATION each; prints requests/s and
# the ratio to bare. Needs wrk (Debian: apt-get install wrk). Bounded: about
# 9 x ROUNDS x DURATION seconds, loopback only. On machines with two or more cores the
# server is pinned to CPU 0 and wrk to CPU 1, so they do not compete for one core.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROUNDS="${ROUNDS:-3}"
VARIANTS="${VARIANTS:-bare noop-layer mayday sentry-tower tracing-bare tracing-mayday actix-bare actix-mayday actix-sentry}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-39917}"

cargo build --release -q -p mayday-reporter --features actix,tracing --example throughput_server
server="${CARGO_TARGET_DIR:-target}/release/examples/throughput_server"
pin_server=()
pin_client=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin_server=(taskset -c 0)
    pin_client=(taskset -c 1)
fi
declare -A total
for round in $(seq "$ROUNDS"); do
    for variant in $VARIANTS; do
        "${pin_server[@]}" "$server" "$variant" "$PORT" &
        pid=$!
        for _ in $(seq 50); do
            curl -fs "http://127.0.0.1:$PORT/orders/1" >/dev/null 2>&1 && break
            sleep 0.1
        done
        rps=$("${pin_client[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -H 'User-Agent: Mozilla/5.0 (Windows NT 10.0; rv:86.0) Firefox/86.0' \
            -H 'Cookie: session=abc123; theme=dark' -H 'Authorization: Bearer abc.def' \
            "http://127.0.0.1:$PORT/orders/7" | awk '/Requests\/sec/ {print $2}')
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        echo "round $round $variant: $rps req/s"
        total[$variant]=$(echo "${total[$variant]:-0} + $rps" | bc -l)
    done
done
# Each variant against its own baseline: axum rows against `bare`, tracing rows against
# `tracing-bare`, actix rows against `actix-bare`.
baseline() {
    case "$1" in
        tracing-*) echo tracing-bare ;;
        actix-*) echo actix-bare ;;
        *) echo bare ;;
    esac
}
for variant in $VARIANTS; do
    base=$(baseline "$variant")
    mean=$(echo "${total[$variant]} / $ROUNDS" | bc -l)
    ratio=$(echo "${total[$variant]} / ${total[$base]}" | bc -l)
    printf '%-15s %10.0f req/s  %.4f x %s\n' "$variant" "$mean" "$ratio" "$base"
done
