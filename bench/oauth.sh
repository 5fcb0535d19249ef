#!/usr/bin/env bash
# OAuth 2.0 (issue 13), side by side with the bare route, at 64 connections:
#   - POST /oauth/token, client credentials with client_secret_basic:
#     tokens/s and p99 (targets: >= 10,000 tokens/s, p99 < 20 ms);
#   - POST /oauth/introspect of an active at+jwt: req/s (target >= 20,000);
#   - GET /v1/client/{id} with an at+jwt vs with a password-login token
#     (the same read; target: the same speed);
#   - GET /healthz, the bare route.
# Every request passes the rate limiter (raised through the instance's
# `default` override, as an operator would).
#
#   bench/oauth.sh [path/to/onramp]   # default target/release/onramp
#
# Environment: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (default 2),
# BENCH_OAUTH_CONNECTIONS (default 64).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"
BIN=${1:-${CARGO_TARGET_DIR:-$ROOT/target}/release/onramp}
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
THREADS=2
CONNS=${BENCH_OAUTH_CONNECTIONS:-64}
LUA="$BENCH_DIR/wrk.lua"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
WORK=""; SERVER_PID=""; POLL_PID=""; CHILD_PID=""
trap cleanup EXIT
[[ -x "$BIN" ]] || die "build it first: cargo build --release -p onramp"
for tool in wrk jq curl base64; do command -v "$tool" >/dev/null || die "$tool is needed (bench/run.sh installs wrk and jq)"; done

WORK=$(mktemp -d /tmp/onramp-bench.XXXXXX)
DATA="$WORK/data"
PORT=$((20000 + RANDOM % 20000))
BASE="http://127.0.0.1:$PORT"
HOST="api.staging.bench.localhost:$PORT"
cli() { "$BIN" --data-dir "$DATA" "$@"; }

cli instance create bench --name Bench --region eu --app-url https://app.example.com >/dev/null
cli instance features bench --enable client-accounts >/dev/null
cli instance update bench --rate-limit default=100000000 >/dev/null
SVC_PASSWORD=$(cli service-user create bench staging bench-svc --json | jq -er .password)
SECRET_DOC=$(cli service-user secret add bench staging bench-svc --json)
CLIENT_ID=$(jq -er .client_id <<<"$SECRET_DOC")
CLIENT_SECRET=$(jq -er .client_secret <<<"$SECRET_DOC")
BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"

"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

form_post() { # form_post PATH BODY: sets HTTP_STATUS and HTTP_BODY
    HTTP_STATUS=$(curl -sS -o "$WORK/http_body" -w '%{http_code}' -H "Host: $HOST" -H "Authorization: $BASIC" \
        -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$2" "$BASE$1" || echo 000)
    HTTP_BODY=$(cat "$WORK/http_body" 2>/dev/null || true)
}
form_post /oauth/token grant_type=client_credentials
expect 200 "client credentials"
AT=$(jq -er .access_token <<<"$HTTP_BODY")
form_post /oauth/introspect "token=$AT"
expect 200 "introspection"
[[ $(jq -r .active <<<"$HTTP_BODY") == true ]] || die "the access token is not active: $HTTP_BODY"
http POST /v1/login/password "$(jq -nc --arg p "$SVC_PASSWORD" '{username: "bench-svc", password: $p}')"
expect 200 "service login"
TOKEN=$(jq -er .api_token <<<"$HTTP_BODY")
http POST /v1/client/signup '{"email": "reader@example.com", "name": {"first_name": "Bench", "last_name": "Reader"}, "password": "Bench-Reader-pw-1"}' "$AT"
expect 201 "signup with the access token"
ID=$(jq -er .user_id <<<"$HTTP_BODY")

FORM=(BENCH_METHOD=POST BENCH_CONTENT_TYPE=application/x-www-form-urlencoded)
scenario healthz "$CONNS" /healthz
scenario oauth_token "$CONNS" /oauth/token "${FORM[@]}" BENCH_BODY=grant_type=client_credentials -- -H "Authorization: $BASIC"
scenario oauth_introspect "$CONNS" /oauth/introspect "${FORM[@]}" "BENCH_BODY=token=$AT" -- -H "Authorization: $BASIC"
scenario read_login "$CONNS" "/v1/client/$ID" -- -H "Authorization: Bearer $TOKEN"
scenario read_at "$CONNS" "/v1/client/$ID" -- -H "Authorization: Bearer $AT"

for s in healthz oauth_token oauth_introspect read_login read_at; do
    bad=$(( $(field "$s" non2xx3xx) + $(sock_errs "$s") ))
    ((bad * 100 <= $(field "$s" requests))) || die "$s: $bad failed of $(field "$s" requests) requests"
done
ratio=$(awk -v a="$(field read_at rps)" -v b="$(field read_login rps)" 'BEGIN { printf "%.2f", a / b }')
echo "oauth token: $(field oauth_token rps) tokens/s (p99 $(field oauth_token lat_p99_ms) ms) at -c$CONNS vs GET /healthz $(field healthz rps) req/s (p99 $(field healthz lat_p99_ms) ms)"
echo "oauth introspect: $(field oauth_introspect rps) req/s (p99 $(field oauth_introspect lat_p99_ms) ms) at -c$CONNS"
echo "oauth read: GET /v1/client/{id} with an at+jwt $(field read_at rps) req/s (p99 $(field read_at lat_p99_ms) ms) vs a password-login token $(field read_login rps) req/s (p99 $(field read_login lat_p99_ms) ms): at/login ${ratio}x"
