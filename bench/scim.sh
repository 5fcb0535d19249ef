#!/usr/bin/env bash
# SCIM (issue 12): `GET /scim/v2/Users?filter=userName eq "…"` next to
# `GET /v1/client/{id}` in the same run, at BENCH_SCIM_ACCOUNTS accounts
# (default 100,000, imported by a partner in batches of 1,000 with a cost-4
# bcrypt passwordHash), target: the filter within 2x of the client read; then
# `POST /scim/v2/Users` throughput without a password (nothing hashed) and
# with one (argon2id at the default cost: hash-bound).
#
#   bench/scim.sh [path/to/onramp]   # default target/release/onramp
#
# Environment: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (default 2),
# BENCH_SCIM_ACCOUNTS (default 100000), BENCH_SCIM_CONNECTIONS (default 16).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"
BIN=${1:-${CARGO_TARGET_DIR:-$ROOT/target}/release/onramp}
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
THREADS=2
CONNS=${BENCH_SCIM_CONNECTIONS:-16}
ACCOUNTS=${BENCH_SCIM_ACCOUNTS:-100000}
LUA="$BENCH_DIR/wrk.lua"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
WORK=""; SERVER_PID=""; POLL_PID=""; CHILD_PID=""
trap cleanup EXIT
[[ -x "$BIN" ]] || die "build it first: cargo build --release -p onramp"
for tool in wrk jq curl python3; do command -v "$tool" >/dev/null || die "$tool is needed (bench/run.sh installs wrk and jq)"; done

WORK=$(mktemp -d /tmp/onramp-bench.XXXXXX)
DATA="$WORK/data"
PORT=$((20000 + RANDOM % 20000))
BASE="http://127.0.0.1:$PORT"
HOST="api.staging.bench.localhost:$PORT"
cli() { "$BIN" --data-dir "$DATA" "$@"; }

cli instance create bench --name Bench --region eu --app-url https://app.example.com >/dev/null
cli instance features bench --enable client-accounts --enable partners --enable scim >/dev/null
cli instance update bench --rate-limit default=100000000 >/dev/null
SVC_PASSWORD=$(cli service-user create bench staging bench-svc --json | jq -er .password)
PARTNER=$(cli partner create bench staging "Bench partner" --json | jq -r .id)
cli partner approve "$PARTNER" >/dev/null
KEY=$(cli key issue "$PARTNER" --json | jq -r .key)
SCIM=$(cli scim-token issue bench staging --json | jq -er .token)

"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

HASH='$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie'
started=$SECONDS
for ((start = 0; start < ACCOUNTS; start += 1000)); do
    python3 - "$start" "$HASH" >"$WORK/batch.json" <<'PY'
import json, sys
start, h = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"accounts": [{"primaryEmail": f"u{start + i}@example.com", "passwordHash": h} for i in range(1000)]}))
PY
    curl -sf -o /dev/null -H "Host: $HOST" -H "x-api-key: $KEY" -H 'content-type: application/json' \
        --data @"$WORK/batch.json" "$BASE/v1/partners/accounts/batch" || die "import batch at $start failed"
done
log "imported $ACCOUNTS accounts in $((SECONDS - started)) s"

http POST /v1/login/password "$(jq -nc --arg p "$SVC_PASSWORD" '{username: "bench-svc", password: $p}')"
expect 200 "service login"
TOKEN=$(jq -er .api_token <<<"$HTTP_BODY")
WANTED="u$((ACCOUNTS / 2))@example.com"
FILTER="/scim/v2/Users?filter=userName%20eq%20%22$WANTED%22"
http GET "$FILTER" "" "$SCIM"
expect 200 "SCIM filter"
[[ $(jq -r .totalResults <<<"$HTTP_BODY") == 1 ]] || die "the filter found $(jq -r .totalResults <<<"$HTTP_BODY") accounts"
ID=$(jq -er '.Resources[0].id' <<<"$HTTP_BODY")

# Twice each, alternating (read, filter, read, filter), and compared on the
# means: this machine's speed drifts by 20% from one ten-second run to the
# next, which one pair alone would mistake for a difference between routes.
for round in 1 2; do
    scenario "client_read_$round" "$CONNS" "/v1/client/$ID" -- -H "Authorization: Bearer $TOKEN"
    scenario "scim_filter_$round" "$CONNS" "$FILTER" -- -H "Authorization: Bearer $SCIM"
done
for name in client_read scim_filter; do
    for f in rps lat_p99_ms; do
        R["$name.$f"]=$(awk -v a="$(field "${name}_1" "$f")" -v b="$(field "${name}_2" "$f")" 'BEGIN { printf "%.1f", (a + b) / 2 }')
    done
done
NOPW='{"userName": "n{n}@example.com", "name": {"givenName": "Bench", "familyName": "User"}, "externalId": "x{n}"}'
WITHPW='{"userName": "p{n}@example.com", "name": {"givenName": "Bench", "familyName": "User"}, "password": "Bench-scim-pw-{n}"}'
scenario scim_create "$CONNS" /scim/v2/Users BENCH_METHOD=POST "BENCH_BODY=$NOPW" BENCH_UNIQUE=1 -- \
    -H "Authorization: Bearer $SCIM" -H "Content-Type: application/scim+json"
scenario scim_create_password "$CONNS" /scim/v2/Users BENCH_METHOD=POST "BENCH_BODY=$WITHPW" BENCH_UNIQUE=1 -- \
    -H "Authorization: Bearer $SCIM" -H "Content-Type: application/scim+json"

ratio=$(awk -v a="$(field scim_filter rps)" -v b="$(field client_read rps)" 'BEGIN { printf "%.2f", b / a }')
echo "scim filter at $ACCOUNTS accounts: $(field scim_filter rps) req/s (p99 $(field scim_filter lat_p99_ms) ms) vs GET /v1/client/{id} $(field client_read rps) req/s (p99 $(field client_read lat_p99_ms) ms), means of two alternating runs each: client/filter ${ratio}x"
echo "scim create: $(field scim_create rps) users/s without a password (non-2xx $(field scim_create non2xx3xx)), $(field scim_create_password rps) users/s with one (non-2xx $(field scim_create_password non2xx3xx))"
