#!/usr/bin/env bash
# The cost of lifecycle events on the request path (issue 10's second
# figure, target >= 0.9x): POST /v1/partners/create and POST /v1/client/signup
# throughput with no webhook endpoint and with 3 endpoints subscribed to
# every event (delivering to a loopback receiver meanwhile, on the same
# 2 cores), side by side in one run, in the order none, 3, none, 3 (the
# endpoints deleted, then three new ones created) so that a growing
# database weighs on both alike. After each run with endpoints the script
# waits until every delivery has been made, so no run inherits another's
# backlog, and prints how long that took (the delivery lag at the end).
#
#   bench/webhook_cost.sh [path/to/onramp]   # default target/release/onramp
#
# argon2id runs at its lowest cost here (--hash-memory-kib 1024
# --hash-iterations 1): at the default cost hashing is nearly all of a
# creation's time and would hide what events add.
# Environment: BENCH_SECONDS (default 10) per measured run, BENCH_WARMUP_SECONDS
# (default 2), BENCH_COST_CONNECTIONS (default 16).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"
BIN=${1:-${CARGO_TARGET_DIR:-$ROOT/target}/release/onramp}
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
THREADS=2
CONNS=${BENCH_COST_CONNECTIONS:-16}
LUA="$BENCH_DIR/wrk.lua"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
WORK=""; SERVER_PID=""; POLL_PID=""; CHILD_PID=""; RECEIVER_PID=""
# Stops the receiver, keeping the exit status for cleanup to report.
stop_receiver() { local rc=$?; kill "${RECEIVER_PID:-}" 2>/dev/null || true; return "$rc"; }
trap 'stop_receiver; cleanup' EXIT
[[ -x "$BIN" ]] || die "build it first: cargo build --release -p onramp"
RECEIVER="$(dirname "$BIN")/examples/webhook_receiver"
[[ -x "$RECEIVER" ]] || cargo build --release -p onramp --example webhook_receiver >&2
for tool in wrk jq curl python3; do command -v "$tool" >/dev/null || die "$tool is needed (bench/run.sh installs wrk and jq)"; done

WORK=$(mktemp -d /tmp/onramp-bench.XXXXXX)
DATA="$WORK/data"
PORT=$((20000 + RANDOM % 20000))
HOOK_PORT=$((PORT + 1))
BASE="http://127.0.0.1:$PORT"
HOST="api.staging.bench.localhost:$PORT"
CHEAP=(--hash-memory-kib 1024 --hash-iterations 1 --hash-parallelism 1)
cli() { "$BIN" --data-dir "$DATA" "${CHEAP[@]}" --webhook-allow-private-targets "$@"; }

cli instance create bench --name Bench --region eu --app-url https://app.example.com >/dev/null
cli instance features bench --enable client-accounts --enable partners >/dev/null
cli instance update bench --rate-limit default=100000000 >/dev/null
SVC_PASSWORD=$(cli service-user create bench staging bench-svc --json | jq -er .password)
PARTNER=$(cli partner create bench staging "Bench partner" --json | jq -r .id)
cli partner approve "$PARTNER" >/dev/null
KEY=$(cli key issue "$PARTNER" --json | jq -r .key)

"$RECEIVER" "$HOOK_PORT" 1000000000 >"$WORK/receiver.out" &
RECEIVER_PID=$!
"$BIN" --data-dir "$DATA" "${CHEAP[@]}" --webhook-allow-private-targets serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
http POST /v1/login/password "$(jq -nc --arg p "$SVC_PASSWORD" '{username: "bench-svc", password: $p}')"
expect 200 "service login"
TOKEN=$(jq -er .api_token <<<"$HTTP_BODY")

CREATE='{"primaryEmail": "c{n}@example.com", "password": "Bench-create-pw-{n}"}'
SIGNUP='{"email": "s{n}@example.com", "name": {"first_name": "Bench", "last_name": "Client"}, "password": "Bench-signup-pw-{n}"}'
measure() { # measure PHASE ROUND
    scenario "create_$1_$2" "$CONNS" /v1/partners/create BENCH_METHOD=POST "BENCH_BODY=$CREATE" BENCH_UNIQUE=1 -- -H "x-api-key: $KEY"
    scenario "signup_$1_$2" "$CONNS" /v1/client/signup BENCH_METHOD=POST "BENCH_BODY=$SIGNUP" BENCH_UNIQUE=1 -- -H "Authorization: Bearer $TOKEN"
}
ENDPOINTS=()
create_endpoints() {
    ENDPOINTS=()
    for n in 1 2 3; do
        http POST /v1/webhooks/endpoints "{\"url\": \"http://127.0.0.1:$HOOK_PORT/hook$n\", \"event_types\": []}" "$TOKEN"
        expect 201 "endpoint creation"
        ENDPOINTS+=("$(jq -r .id <<<"$HTTP_BODY")")
    done
}
delete_endpoints() {
    for id in "${ENDPOINTS[@]}"; do
        http DELETE "/v1/webhooks/endpoints/$id" "" "$TOKEN"
        expect 204 "endpoint deletion"
    done
}
# Waits until the receiver's count stands still for a second; prints the seconds it took.
drain() {
    local start=$SECONDS before after
    after=$(curl -sf "http://127.0.0.1:$HOOK_PORT/count")
    while :; do
        before=$after
        sleep 1
        after=$(curl -sf "http://127.0.0.1:$HOOK_PORT/count")
        [[ "$after" == "$before" ]] && break
    done
    echo $(( SECONDS - start - 1 ))
}

measure none 1
create_endpoints
measure three 1
LAG1=$(drain)
delete_endpoints
measure none 2
create_endpoints
measure three 2
LAG2=$(drain)
log "delivery lag after the runs with endpoints: ${LAG1} s and ${LAG2} s (every event delivered after that; $(curl -sf "http://127.0.0.1:$HOOK_PORT/count") deliveries in all)"

mean() { awk -v a="$(field "${1}_1" rps)" -v b="$(field "${1}_2" rps)" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }
for route in create signup; do
    none=$(mean "${route}_none")
    three=$(mean "${route}_three")
    errors=$(( $(field "${route}_none_1" non2xx3xx) + $(field "${route}_none_2" non2xx3xx) + $(field "${route}_three_1" non2xx3xx) + $(field "${route}_three_2" non2xx3xx) ))
    ratio=$(awk -v a="$three" -v b="$none" 'BEGIN { printf "%.2f", a / b }')
    cpu() { awk -v c="$(field "$1" cpu_s)" -v n="$(field "$1" requests)" 'BEGIN { printf "%.0f", 1e6 * c / n }'; }
    echo "$route: none $(field "${route}_none_1" rps) / $(field "${route}_none_2" rps) req/s, 3 endpoints $(field "${route}_three_1" rps) / $(field "${route}_three_2" rps) req/s: ${ratio}x (mean $three vs $none; non-2xx $errors; server CPU per request $(cpu "${route}_none_1") / $(cpu "${route}_none_2") µs without endpoints, $(cpu "${route}_three_1") / $(cpu "${route}_three_2") µs with 3)"
done
