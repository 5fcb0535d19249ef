#!/usr/bin/env bash
# Webhook delivery throughput: events delivered per second to a fast loopback
# receiver (the webhook_receiver example, in Rust), issue 10's target being
# >= 2,000/s on 2 cores.
#
#   bench/webhooks.sh [path/to/onramp]     # default target/release/onramp
#
# A server with --webhook-allow-private-targets, one endpoint subscribed to
# account.created, then BENCH_EVENTS (default 5,000) accounts imported by a
# partner in batches of 1,000 (cost-4 bcrypt passwordHash: no hashing), whose
# events the delivery loop fans out and posts. Reported: the time from the
# receiver's first request to its last distinct webhook-id, and requests seen
# (more than events would mean attempts repeated).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/onramp}
EVENTS=${BENCH_EVENTS:-5000}
[[ -x "$BIN" ]] || { echo "build it first: cargo build --release -p onramp" >&2; exit 1; }
RECEIVER="$(dirname "$BIN")/examples/webhook_receiver"
[[ -x "$RECEIVER" ]] || cargo build --release -p onramp --example webhook_receiver >&2
WORK=$(mktemp -d)
DATA="$WORK/data"
PORT=$((20000 + RANDOM % 20000))
HOOK_PORT=$((PORT + 1))
cleanup() { kill "${SERVER_PID:-}" "${RECEIVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
cli() { "$BIN" --data-dir "$DATA" --webhook-allow-private-targets "$@"; }

cli instance create bench --name Bench --region eu --app-url https://app.example.com >/dev/null
cli instance features bench --enable client-accounts --enable partners >/dev/null
cli instance update bench --rate-limit default=100000000 >/dev/null
PARTNER=$(cli partner create bench staging "Bench partner" --json | jq -r .id)
cli partner approve "$PARTNER" >/dev/null
KEY=$(cli key issue "$PARTNER" --json | jq -r .key)
cli webhook add bench staging "http://127.0.0.1:$HOOK_PORT/hook" --event account.created >/dev/null

"$RECEIVER" "$HOOK_PORT" "$EVENTS" >"$WORK/receiver.out" &
RECEIVER_PID=$!
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --webhook-allow-private-targets >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

HASH='$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie'
for ((start = 0; start < EVENTS; start += 1000)); do
    python3 - "$start" "$HASH" >"$WORK/batch.json" <<'PY'
import json, sys
start, h = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"accounts": [{"primaryEmail": f"w{start + i}@example.com", "passwordHash": h} for i in range(1000)]}))
PY
    curl -sf -o /dev/null -H "Host: api.staging.bench.localhost" -H "x-api-key: $KEY" \
        -H 'content-type: application/json' --data @"$WORK/batch.json" \
        "http://127.0.0.1:$PORT/v1/partners/accounts/batch"
done

for _ in $(seq 1 600); do grep -q "^$EVENTS " "$WORK/receiver.out" && break; sleep 0.1; done
read -r total seconds requests < <(grep "^$EVENTS " "$WORK/receiver.out") || { echo "not all events arrived" >&2; exit 1; }
rate=$(python3 -c "print(f'{$total / $seconds:,.0f}')")
echo "webhook delivery: $total events in $seconds s = $rate events/s to one loopback receiver ($requests requests)"
