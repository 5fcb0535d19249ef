#!/usr/bin/env bash
# Onramp load benchmark: one command, loopback only, bounded in time.
#
#   bench/run.sh                      # full run (~2 minutes after the build)
#   BENCH_SECONDS=10 bench/run.sh     # shorter measurements
#
# It installs wrk (and jq/curl) if missing, builds target/release/onramp,
# starts a server on a private data dir and a free loopback port, sets up an
# instance, a service user and one client account with the operator CLI and
# the API, then measures:
#   (a) POST /v1/client/login (argon2id per request) vs `onramp debug hash-rate`
#   (b) GET /v1/client/{user_id} vs GET /healthz at 64 connections (rps, p99)
#   (c) POST /v1/login/password (service token issuance) in tokens/s
#   (d) server RSS: idle after startup and setup, peak under load
#   (e) POST /v1/partners/accounts/batch, 1,000 items with passwordHash
#   (g) webhook delivery to a loopback receiver, and create/signup throughput
#       with 3 subscribed endpoints vs none (bench/webhooks.sh, bench/webhook_cost.sh)
#   (i) SCIM: a userName filter at 100,000 accounts vs GET /v1/client/{id},
#       and POST /scim/v2/Users with and without a password (bench/scim.sh)
#   (j) OAuth: client-credentials tokens/s and p99, introspection req/s, and
#       GET /v1/client/{id} with an at+jwt vs a password-login token, beside
#       GET /healthz (bench/oauth.sh)
#   (f) with BENCH_MILLION=1 only (bench/scale.sh): lookups by id and by
#       email, the first and a deep page of GET /v1/client and the partner
#       list's email filter, at 1,000 and at 1,000,000 accounts side by side
#       (the import takes a few minutes)
# The summary goes to stdout and bench/results/latest.md. Everything started
# here is stopped on exit.
#
# Environment (all optional):
#   BENCH_SECONDS=20          length of each measured wrk run
#   BENCH_WARMUP_SECONDS=2    unmeasured wrk run before each measurement (0 = none)
#   BENCH_HASH_SECONDS=5      length of each raw argon2id rate measurement (before and after (a))
#   BENCH_THREADS=2           wrk threads
#   BENCH_LOGIN_CONNECTIONS=8 connections for scenario (a)
#   BENCH_CONNECTIONS=64      connections for scenarios (b), (c) and (f)
#   BENCH_PORT=               port to listen on (default: a free one)
#   BENCH_SKIP_BUILD=1        use the existing target/release/onramp (or $CARGO_TARGET_DIR/release/onramp) as is
#   BENCH_MILLION=1           also run (f)
#   BENCH_LARGE_ACCOUNTS=1000000  size of (f)'s large set (a smaller one for a quick try)
#   BENCH_KEEP_DATA=1         keep the temporary data dir and server log
#   RUST_LOG                  passed to the server (its default is info, one access log line per request)

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"

SECONDS_RUN=${BENCH_SECONDS:-20}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
HASH_SECONDS=${BENCH_HASH_SECONDS:-5}
THREADS=${BENCH_THREADS:-2}
LOGIN_CONNS=${BENCH_LOGIN_CONNECTIONS:-8}
CONNS=${BENCH_CONNECTIONS:-64}
RESULTS_DIR="$BENCH_DIR/results"
RESULTS="$RESULTS_DIR/latest.md"
LUA="$BENCH_DIR/wrk.lua"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/onramp"
PLATFORM=bench

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
WORK=""
SERVER_PID=""
POLL_PID=""
CHILD_PID=""
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
SCALE=0
if [[ "${BENCH_MILLION:-0}" == 1 ]]; then
    SCALE=1
    # shellcheck source=bench/scale.sh
    source "$BENCH_DIR/scale.sh"
fi

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v jq >/dev/null || need_apt+=(jq)
command -v curl >/dev/null || need_apt+=(curl)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]} from Debian"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO=sudo
    ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}") >&2 \
        || die "could not install ${need_apt[*]}"
fi

# ---------------------------------------------------------------- build
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "cargo build --release -p onramp (several minutes the first time)"
    cargo build --release -p onramp >&2 || die "build failed"
fi
[[ -x "$BIN" ]] || die "$BIN not found"

WORK=$(mktemp -d /tmp/onramp-bench.XXXXXX)
DATA="$WORK/data"
mkdir -p "$DATA" "$RESULTS_DIR"

cli() { "$BIN" --data-dir "$DATA" "$@"; }

if [[ -n "${BENCH_PORT:-}" ]]; then
    PORT=$BENCH_PORT
    port_free "$PORT" || die "port $PORT is in use"
else
    PORT=""
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if port_free "$p"; then PORT=$p; break; fi
    done
    [[ -n "$PORT" ]] || die "no free port found"
fi
BASE="http://127.0.0.1:$PORT"
HOST="api.staging.$PLATFORM.localhost:$PORT"

# ---------------------------------------------------------------- setup (operator CLI)
log "setting up instance '$PLATFORM' in $DATA"
cli instance create "$PLATFORM" --name Bench --region eu --app-url https://app.example.com >/dev/null
cli instance features "$PLATFORM" --enable client-accounts >/dev/null
# Raised through normal config, so the limiter still runs on every request.
cli instance update "$PLATFORM" --rate-limit default=100000000 >/dev/null
SVC_PASSWORD=$(cli service-user create "$PLATFORM" staging bench-svc --json | jq -er .password) || die "service-user create failed"
((SCALE)) && scale_cli_setup

# ---------------------------------------------------------------- server
log "starting onramp serve on 127.0.0.1:$PORT"
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited at startup"
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$BASE/healthz" || true)" == 200 ]] && break
    ((i == 100)) && die "server not healthy after 20 s"
    sleep 0.2
done
sleep 1
RSS_STARTUP=$(rss_kib "$SERVER_PID")

# ---------------------------------------------------------------- setup (API)
LOGIN_BODY=$(jq -nc --arg u bench-svc --arg p "$SVC_PASSWORD" '{username: $u, password: $p}')
http POST /v1/login/password "$LOGIN_BODY"
expect 200 "service login"
TOKEN=$(jq -er .api_token <<<"$HTTP_BODY") || die "no api_token in $HTTP_BODY"

CLIENT_EMAIL="bench.client@example.com"
CLIENT_PASSWORD="Bench-load-test-$(date +%s)-pw"
SIGNUP_BODY=$(jq -nc --arg e "$CLIENT_EMAIL" --arg p "$CLIENT_PASSWORD" \
    '{email: $e, name: {first_name: "Bench", last_name: "Client"}, password: $p}')
http POST /v1/client/signup "$SIGNUP_BODY" "$TOKEN"
expect 201 "client signup"
USER_ID=$(jq -er .user_id <<<"$HTTP_BODY") || die "no user_id in $HTTP_BODY"
CLIENT_LOGIN_BODY=$(jq -nc --arg e "$CLIENT_EMAIL" --arg p "$CLIENT_PASSWORD" '{email: $e, password: $p}')

http POST /v1/client/login "$CLIENT_LOGIN_BODY" "$TOKEN"; expect 200 "client login"
http GET "/v1/client/$USER_ID" "" "$TOKEN"; expect 200 "client read"
http GET /healthz; expect 200 "healthz"
log "service user, client $USER_ID and sanity checks OK"
sleep 2
RSS_IDLE=$(rss_kib "$SERVER_PID")

# ---------------------------------------------------------------- raw argon2id rate
# Measured right before and right after scenario (a), with the server idle;
# (a) is compared with the mean, so that a change in background load shows.
HASH_THREADS=""
hash_rate() { # hash_rate VAR: sets VAR to verifications per second
    log "measuring raw argon2id verification rate for ${HASH_SECONDS}s (server idle)"
    local out rate
    child "$WORK/hash.json" "$BIN" debug hash-rate --seconds "$HASH_SECONDS" --json || { cat "$WORK/hash.json.err" >&2; die "onramp debug hash-rate failed"; }
    out=$(<"$WORK/hash.json")
    rate=$(jq -er .per_second <<<"$out") || die "unexpected hash-rate output: $out"
    HASH_THREADS=$(jq -r .threads <<<"$out")
    printf -v "$1" '%s' "$rate"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# Share of the machine's CPU busy over 2 s while the server idles: other work
# running on the machine, which the figures below then include.
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r b0 i0 < <(cpu_busy); sleep 2; read -r b1 i1 < <(cpu_busy)
BACKGROUND=$(awk -v b="$((b1 - b0))" -v i="$((i1 - i0))" 'BEGIN { printf "%.0f%%", (b + i) ? 100 * b / (b + i) : 0 }')
((b1 - b0 > (i1 - i0) / 3)) && log "WARNING: the machine is already $BACKGROUND busy before the benchmark; figures will be low"
hash_rate HASH_BEFORE

# ---------------------------------------------------------------- load
log "(a) POST /v1/client/login, $LOGIN_CONNS connections, ${SECONDS_RUN}s"
scenario client_login "$LOGIN_CONNS" /v1/client/login \
    BENCH_METHOD=POST "BENCH_BODY=$CLIENT_LOGIN_BODY" BENCH_COUNT_STATUS=1 -- -H "Authorization: Bearer $TOKEN"
hash_rate HASH_AFTER
HASH_RATE=$(awk -v a="$HASH_BEFORE" -v b="$HASH_AFTER" 'BEGIN { printf "%.3f", (a + b) / 2 }')

log "(b) GET /healthz, $CONNS connections, ${SECONDS_RUN}s"
scenario healthz "$CONNS" /healthz BENCH_METHOD=GET --
log "(b) GET /v1/client/{user_id}, $CONNS connections, ${SECONDS_RUN}s"
scenario client_get "$CONNS" "/v1/client/$USER_ID" BENCH_METHOD=GET -- -H "Authorization: Bearer $TOKEN"

log "(c) POST /v1/login/password, $CONNS connections, ${SECONDS_RUN}s"
scenario service_login "$CONNS" /v1/login/password BENCH_METHOD=POST "BENCH_BODY=$LOGIN_BODY" --

# (e) partner batch import: 1,000 items with passwordHash (no hashing on the
# request path), three times, median wall time of the whole request.
log "(e) POST /v1/partners/accounts/batch, 1000 items with passwordHash"
cli instance features "$PLATFORM" --enable partners >/dev/null
PARTNER_ID=$(cli partner create "$PLATFORM" staging "Bench partner" --json | jq -r .id)
cli partner approve "$PARTNER_ID" >/dev/null
API_KEY=$(cli key issue "$PARTNER_ID" --json | jq -r .key)
IMPORTED_HASH=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select password_hash from accounts limit 1').fetchone()[0])" "$DATA/onramp.db")
sleep 2
BATCH_TIMES=()
for round in 1 2 3; do
    python3 -c "
import json, sys
print(json.dumps({'accounts': [{'primaryEmail': f'batch{sys.argv[1]}-{i}@example.com', 'passwordHash': sys.argv[2], 'firstName': 'Bench'} for i in range(1000)]}))
" "$round" "$IMPORTED_HASH" >"$WORK/batch.json"
    t=$(curl -sS -o "$WORK/batch_out.json" -w '%{time_total}' -H "Host: $HOST" -H "x-api-key: $API_KEY" \
        -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json" "$BASE/v1/partners/accounts/batch")
    created=$(jq '[.results[] | select(.status == 201)] | length' "$WORK/batch_out.json")
    [[ "$created" == 1000 ]] || die "batch round $round created $created of 1000"
    BATCH_TIMES+=("$t")
done
BATCH_MEDIAN=$(printf '%s\n' "${BATCH_TIMES[@]}" | sort -n | sed -n 2p)
log "batch: ${BATCH_TIMES[*]} s (median $BATCH_MEDIAN s)"

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
RSS_HWM=$(rss_kib "$SERVER_PID" VmHWM)
RSS_END=$(rss_kib "$SERVER_PID")
kill -0 "$SERVER_PID" 2>/dev/null || die "server died during the run"

# After (d)'s readings, so that they stay comparable with runs without (f).
if ((SCALE)); then
    scale_measure
    LOAD_END="$LOAD_END (after (e)); after (f): $(cut -d' ' -f1-3 /proc/loadavg)"
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during (f)"
fi
log "(g) webhook delivery and its cost on the request path (bench/webhooks.sh, bench/webhook_cost.sh)"
G_DELIVERY=$("$BENCH_DIR/webhooks.sh" "$BIN" | tail -n1) || die "bench/webhooks.sh failed"
G_COST=$(BENCH_SECONDS="$SECONDS_RUN" "$BENCH_DIR/webhook_cost.sh" "$BIN" | grep -E '^(create|signup):') || die "bench/webhook_cost.sh failed"
log "(i) SCIM filter and provisioning (bench/scim.sh)"
I_SCIM=$(BENCH_SECONDS="$SECONDS_RUN" "$BENCH_DIR/scim.sh" "$BIN" | grep -E '^scim ') || die "bench/scim.sh failed"
log "(j) OAuth client credentials, introspection and at+jwt reads (bench/oauth.sh)"
J_OAUTH=$(BENCH_SECONDS="$SECONDS_RUN" "$BENCH_DIR/oauth.sh" "$BIN" | grep -E '^oauth ') || die "bench/oauth.sh failed"
SCENARIOS=(client_login healthz client_get service_login)
((SCALE)) && SCENARIOS+=("${SCALE_SCENARIOS[@]}")

# ---------------------------------------------------------------- report

A_OK=$(field client_login rps200)
A_RATIO=$(calc "%.3f" "$A_OK / $HASH_RATE")
A_NON200=$(calc "%d" "$(field client_login requests) - $(field client_login status200)")
B_H=$(field healthz rps)
B_G=$(field client_get rps)
B_RATIO=$(calc "%.3f" "$B_G / $B_H")
B_P99=$(field client_get lat_p99_ms)
C_RPS=$(field service_login rps)
C_OK=$(calc "%.1f" "($(field service_login requests) - $(field service_login non2xx3xx)) / $(field service_login duration_s)")
PEAK_POLL=0
for s in client_login healthz client_get service_login; do
    p=$(field "$s" rss_peak_kib)
    ((p > PEAK_POLL)) && PEAK_POLL=$p
done
PEAK=$((PEAK_POLL > RSS_HWM ? PEAK_POLL : RSS_HWM))

INVALID=0
for s in "${SCENARIOS[@]}"; do
    req=$(field "$s" requests)
    bad=$(( $(field "$s" non2xx3xx) + $(sock_errs "$s") ))
    [[ $s == client_login ]] && bad=$((A_NON200 + $(sock_errs "$s")))
    # A run with more than 1% failed requests measures errors, not the server.
    if ((req == 0 || bad * 100 > req)); then INVALID=1; log "WARNING: $s has $bad failed of $req requests"; fi
done

COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] && COMMIT="$COMMIT (+ uncommitted changes)"
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

{
    echo "# Onramp benchmark results"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $COMMIT"
    echo "- machine: $(nproc) cores ($CPU), $MEM RAM, Linux $(uname -r)"
    echo "- tools: $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'), $(rustc --version 2>/dev/null | awk '{print $1, $2}' || echo rustc ?)"
    echo "- settings: ${SECONDS_RUN}s per measurement after ${WARMUP}s warm-up, wrk -t$THREADS, loopback, server log level ${RUST_LOG:-info (default; one access-log line per request, to a file)}"
    echo "- background CPU use before the measurements (server idle): $BACKGROUND of all cores; load average before: $LOAD_START, after: $LOAD_END (anything else running on the machine skews the figures)"
    echo "- raw argon2id: $(calc "%.1f" "$HASH_RATE") verifications/s with $HASH_THREADS threads, mean of $(calc "%.1f" "$HASH_BEFORE") before and $(calc "%.1f" "$HASH_AFTER") after (a) (\`onramp debug hash-rate --seconds $HASH_SECONDS\`, default cost m=19456 KiB, t=2, p=1)"
    echo
    echo "| Scenario | Result | Target | |"
    echo "|---|---|---|---|"
    echo "| (a) \`POST /v1/client/login\` (-c$LOGIN_CONNS), 200s/s vs raw argon2id | $(calc "%.1f" "$A_OK") / $(calc "%.1f" "$HASH_RATE") = **$A_RATIO** | ≥ 0.85 | $(verdict "$A_RATIO >= 0.85") |"
    echo "| (b) \`GET /v1/client/{id}\` vs \`GET /healthz\` (-c$CONNS), req/s | $(calc "%.0f" "$B_G") / $(calc "%.0f" "$B_H") = **$B_RATIO** | ≥ 0.5 | $(verdict "$B_RATIO >= 0.5") |"
    echo "| (b) \`GET /v1/client/{id}\` p99 latency (-c$CONNS) | **$B_P99 ms** | < 10 ms | $(verdict "$B_P99 < 10") |"
    echo "| (c) \`POST /v1/login/password\` (-c$CONNS), tokens/s | **$C_OK** | ≥ 3000 | $(verdict "$C_OK >= 3000") |"
    echo "| (e) \`POST /v1/partners/accounts/batch\`, 1000 items with \`passwordHash\`, median of 3 | **$(calc "%.3f" "$BATCH_MEDIAN") s** (runs: ${BATCH_TIMES[*]}) | well under 1 s | $(verdict "$BATCH_MEDIAN < 1") |"
    echo "| (d) RSS idle after startup + setup | **$(mb "$RSS_IDLE") MB** (right after startup: $(mb "$RSS_STARTUP") MB) | ≤ 30 MB | $(verdict "$RSS_IDLE * 1024 <= 30e6") |"
    echo "| (d) RSS peak under load | **$(mb "$PEAK") MB** (VmHWM $(mb "$RSS_HWM") MB, 200 ms samples $(mb "$PEAK_POLL") MB, at end $(mb "$RSS_END") MB) | ≤ 100 MB | $(verdict "$PEAK * 1024 <= 100e6") |"
    echo "| (g) $G_DELIVERY | | ≥ 2,000 events/s | $(verdict "$(sed -E 's/.*= ([0-9,]+) events.*/\1/; s/,//g' <<<"$G_DELIVERY") >= 2000") |"
    while read -r line; do
        echo "| (g) request path with 3 endpoints, $line | | ≥ 0.9x | $(verdict "$(sed -E 's/.*: ([0-9.]+)x .*/\1/' <<<"$line") >= 0.9") |"
    done <<<"$G_COST"
    I_FILTER=$(grep '^scim filter' <<<"$I_SCIM")
    echo "| (i) $I_FILTER | | ≤ 2x | $(verdict "$(sed -E 's/.*: client\/filter ([0-9.]+)x.*/\1/' <<<"$I_FILTER") <= 2") |"
    echo "| (i) $(grep '^scim create' <<<"$I_SCIM") | | | |"
    J_TOKEN=$(grep '^oauth token' <<<"$J_OAUTH")
    J_TOKEN_RPS=$(sed -E 's/^oauth token: ([0-9.]+) tokens.*/\1/' <<<"$J_TOKEN")
    J_TOKEN_P99=$(sed -E 's/^oauth token: [^(]*\(p99 ([0-9.]+) ms\).*/\1/' <<<"$J_TOKEN")
    echo "| (j) $J_TOKEN | | ≥ 10,000 tokens/s, p99 < 20 ms | $(verdict "$J_TOKEN_RPS >= 10000 && $J_TOKEN_P99 < 20") |"
    J_INTRO=$(grep '^oauth introspect' <<<"$J_OAUTH")
    echo "| (j) $J_INTRO | | ≥ 20,000 req/s | $(verdict "$(sed -E 's/^oauth introspect: ([0-9.]+) req.*/\1/' <<<"$J_INTRO") >= 20000") |"
    J_READ=$(grep '^oauth read' <<<"$J_OAUTH")
    echo "| (j) $J_READ | | ≈ 1x | $(verdict "$(sed -E 's/.*at\/login ([0-9.]+)x.*/\1/' <<<"$J_READ") >= 0.9") |"
    echo
    echo "Every wrk run (measured part only):"
    echo
    echo "| Run | conns | requests | req/s | non-2xx/3xx | socket errors | p50 ms | p99 ms | max ms | server CPU | CPU µs/req | peak RSS MB |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}"; do
        case $s in
            client_login) label="(a) POST /v1/client/login"; c=$LOGIN_CONNS ;;
            healthz) label="(b) GET /healthz"; c=$CONNS ;;
            client_get) label="(b) GET /v1/client/{id}"; c=$CONNS ;;
            service_login) label="(c) POST /v1/login/password"; c=$CONNS ;;
            *) label="(f) $(scale_label "$s")"; c=$CONNS ;;
        esac
        echo "| $label | $c | $(field "$s" requests) | $(field "$s" rps) | $(field "$s" non2xx3xx) | $(sock_errs "$s") | $(field "$s" lat_p50_ms) | $(field "$s" lat_p99_ms) | $(field "$s" lat_max_ms) | $(calc "%.0f%%" "100 * $(field "$s" cpu_s) / $(field "$s" duration_s)") | $(calc "%.0f" "1e6 * $(field "$s" cpu_s) / $(field "$s" requests)") | $(mb "$(field "$s" rss_peak_kib)") |"
    done
    echo
    echo "Server CPU is user + system time of the onramp process over the run (200% = both of $(nproc) cores); wrk runs on the same machine."
    echo
    echo "(a) status codes: $(field client_login statuses) (only 200s are counted; non-200: $A_NON200)."
    ((SCALE)) && scale_report
    if ((INVALID)); then
        echo
        echo "**INVALID RUN: more than 1% of the requests of a scenario failed; see the non-2xx and socket error columns.**"
    fi
} >"$RESULTS"

echo
cat "$RESULTS"
echo
log "written to ${RESULTS#"$ROOT"/}"
((INVALID)) && exit 2
exit 0
