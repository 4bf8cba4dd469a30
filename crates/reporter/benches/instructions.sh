#!/usr/bin/env bash
# Instructions per request of an axum app: bare, with a no-op layer (what
# `Router::layer` itself costs), with the mayday layer, with sentry-tower. Counted by
# callgrind (repeatable, unlike wall-clock time on a shared machine). Each variant runs
# N and 3N requests, and the difference divided by 2N removes start-up. Needs valgrind
# and python3. Takes a few minutes; loopback only.
#
# 1. in-process: requests through `Router::oneshot` (examples/request_cost.rs);
# 2. server: the HTTP server (examples/throughput_server.rs, one worker thread) under
#    callgrind, driven over loopback by a keep-alive client. User-space instructions only:
#    the kernel's share of each request (socket reads and writes) is not counted.
set -euo pipefail
cd "$(dirname "$0")/../../.."
N="${N:-1000}"
PORT="${PORT:-39931}"
here=crates/reporter/benches

cargo build --release -q -p mayday-reporter --features actix,tracing --example request_cost --example throughput_server
bin="${CARGO_TARGET_DIR:-target}/release/examples"
log=$(mktemp)
trap 'rm -f "$log" callgrind.out.mayday.*' EXIT

in_process() {
    valgrind --tool=callgrind --callgrind-out-file=callgrind.out.mayday.%p "$bin/request_cost" "$1" "$2" 2>"$log" >/dev/null
    awk '/Collected :/ {print $4}' "$log"
}

server() {
    valgrind --tool=callgrind --callgrind-out-file=callgrind.out.mayday.%p "$bin/throughput_server" "$1" "$PORT" 2>"$log" &
    local pid=$!
    python3 "$here/keepalive_client.py" "$PORT" "$2"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk '/Collected :/ {print $4}' "$log"
}

report() {
    local title=$1
    shift
    echo "$title"
    local -n per_ref=$1
    for variant in bare noop-layer mayday-no-counts mayday sentry-tower; do
        [ -n "${per_ref[$variant]:-}" ] || continue
        printf '  %-13s %8d instructions/request  %+7d vs bare  %.3f x bare\n' "$variant" "${per_ref[$variant]}" \
            $(( per_ref[$variant] - per_ref[bare] )) "$(echo "${per_ref[$variant]} / ${per_ref[bare]}" | bc -l)"
    done
}

declare -A inproc
for variant in bare noop-layer mayday-no-counts mayday sentry-tower; do
    small=$(in_process "$variant" "$N")
    large=$(in_process "$variant" $((3 * N)))
    inproc[$variant]=$(( (large - small) / (2 * N) ))
done
report "in-process (Router::oneshot)" inproc

declare -A srv
for variant in bare noop-layer mayday sentry-tower tracing-bare tracing-mayday actix-bare actix-mayday actix-sentry; do
    small=$(server "$variant" "$N")
    large=$(server "$variant" $((3 * N)))
    srv[$variant]=$(( (large - small) / (2 * N) ))
done
report "HTTP/1.1 server over loopback (user space)" srv
echo "tracing (one info! per request), against tracing-bare:"
for variant in tracing-bare tracing-mayday; do
    printf '  %-13s %8d instructions/request  %+7d  %.3f x\n' "$variant" "${srv[$variant]}" \
        $(( srv[$variant] - srv[tracing-bare] )) "$(echo "${srv[$variant]} / ${srv[tracing-bare]}" | bc -l)"
done
echo "actix-web, against actix-bare:"
for variant in actix-bare actix-mayday actix-sentry; do
    printf '  %-13s %8d instructions/request  %+7d  %.3f x\n' "$variant" "${srv[$variant]}" \
        $(( srv[$variant] - srv[actix-bare] )) "$(echo "${srv[$variant]} / ${srv[actix-bare]}" | bc -l)"
done
