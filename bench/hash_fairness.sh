#!/usr/bin/env bash
# Hashing fairness and imported-hash cost, on loopback against a release build.
#
#   cargo build --release -p onramp && bench/hash_fairness.sh [path/to/onramp]
#
# Two instances: `acme`, whose partner imports 1,000 accounts with plaintext
# passwords through POST /v1/partners/accounts/batch, and `beta`, whose
# backend logs a client in with POST /v1/client/login. Measures:
#   (1) beta's login latency alone (20 sequential logins);
#   (2) beta's login latency while acme's 1,000-password batch runs
#       (sequential logins until the batch answers), and the batch's time;
#   (3) the first beta login after three such batches abandoned after 0.3 s;
#   (4) wrong logins (8 in parallel for BENCH_SECONDS) against accounts
#       imported with hashes at the cost ceiling (argon2id m=38912 t=2,
#       scrypt ln=14 r=8 p=1, bcrypt 12): latency per algorithm and the
#       server's peak RSS.
# Environment: BENCH_SECONDS=10, BENCH_PORT (default: a free one).

set -euo pipefail

BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/onramp}")
SECONDS_RUN=${BENCH_SECONDS:-10}
PORT=${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
DATA="$WORK/data"
SERVER_PID=""

log() { printf '[hash-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$BIN" ]] || die "no binary at $BIN (cargo build --release -p onramp)"
cli() { "$BIN" --data-dir "$DATA" "$@"; }

# ------------------------------------------------------------- setup
for id in acme beta; do
    cli instance create "$id" --name "$id" --region za --app-url "https://app.$id.example" >/dev/null
    cli instance update "$id" --rate-limit default=100000000 >/dev/null
done
cli instance features acme --enable client-accounts --enable partners >/dev/null
cli instance features beta --enable client-accounts >/dev/null
SVC_PASSWORD=$(cli service-user create beta staging svc --json | jq -er .password)
PARTNER_ID=$(cli partner create acme staging Importer --json | jq -er .id)
cli partner approve "$PARTNER_ID" >/dev/null
KEY=$(cli key issue "$PARTNER_ID" --json | jq -er .key)

"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 100); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz" || true)" == 200 ]] && break
    ((i == 100)) && die "server not healthy"
    sleep 0.2
done

ACME="Host: api.staging.acme.localhost"
BETA="Host: api.staging.beta.localhost"
JSON="Content-Type: application/json"
TOKEN=$(curl -sf -H "$BETA" -H "$JSON" -d "{\"username\":\"svc\",\"password\":\"$SVC_PASSWORD\"}" \
    "$BASE/v1/login/password" | jq -er .api_token)
curl -sf -o /dev/null -H "$BETA" -H "$JSON" -H "Authorization: Bearer $TOKEN" \
    -d '{"email":"ann@example.com","name":{"first_name":"Ann","last_name":"Lee"},"password":"Tr0ub4dor&3-battery"}' \
    "$BASE/v1/client/signup" || die "signup failed"

# login FILE: one beta login; appends "status seconds" to FILE.
login() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "$BETA" -H "$JSON" -H "Authorization: Bearer $TOKEN" \
        -d '{"email":"ann@example.com","password":"Tr0ub4dor&3-battery"}' "$BASE/v1/client/login" >>"$1"
}
# summary FILE: "n=…, 200s=…, median … ms, max … ms"
summary() {
    python3 - "$1" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
ms = sorted(float(t) * 1000 for _, t in rows)
ok = sum(1 for s, _ in rows if s == "200")
print(f"n={len(ms)}, 200s={ok}, median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms")
EOF
}
# batch_json FILE PREFIX: 1,000 items with distinct plaintext passwords.
batch_json() {
    python3 -c "
import json, sys
print(json.dumps({'accounts': [{'primaryEmail': f'{sys.argv[1]}{i}@example.com', 'password': f'correct horse battery {i}'} for i in range(1000)]}))
" "$2" >"$1"
}
batch() { # batch JSON_FILE [curl args]: POST it as acme's partner; prints "status seconds"
    local file=$1
    shift
    curl -s -o "$WORK/batch_out.json" -w '%{http_code} %{time_total}\n' "$@" -H "$ACME" -H "$JSON" -H "x-api-key: $KEY" \
        --data-binary "@$file" "$BASE/v1/partners/accounts/batch" || true
}

# ------------------------------------------------------------- (1) alone
for _ in $(seq 1 20); do login "$WORK/alone.txt"; done
log "(1) login alone: $(summary "$WORK/alone.txt")"

# ------------------------------------------------------------- (2) during a batch
batch_json "$WORK/batch.json" bulk
batch "$WORK/batch.json" >"$WORK/batch_time.txt" &
BATCH_PID=$!
sleep 0.2
while kill -0 "$BATCH_PID" 2>/dev/null; do login "$WORK/during.txt"; done
wait "$BATCH_PID" || true
read -r BATCH_STATUS BATCH_SECONDS <"$WORK/batch_time.txt"
CREATED=$(jq '[.results[]? | select(.status == 201)] | length' "$WORK/batch_out.json" 2>/dev/null || echo 0)
log "(2) login during a 1,000-password batch: $(summary "$WORK/during.txt")"
log "    the batch: HTTP $BATCH_STATUS in ${BATCH_SECONDS}s, $CREATED created"

# ------------------------------------------------------------- (3) abandoned batches
for round in 1 2 3; do
    batch_json "$WORK/gone.json" "gone$round-"
    batch "$WORK/gone.json" --max-time 0.3 >/dev/null
done
login "$WORK/after_abandoned.txt"
log "(3) first login after three batches abandoned after 0.3 s: $(summary "$WORK/after_abandoned.txt")"

# ------------------------------------------------------------- (4) hashes at the ceiling
# 200 accounts per algorithm, each tried once with a wrong password (so the
# failed-login throttle never answers instead of the hash).
python3 - "$WORK/ceiling.json" <<'PY'
import json, sys
salt, digest = "c2FsdHNhbHRzYWx0c2FsdA", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY"
hashes = {
    "argon2": f"$argon2id$v=19$m=38912,t=2,p=1${salt}${digest}",
    "scrypt": f"$scrypt$ln=14,r=8,p=1${salt}${digest}",
    "bcrypt": "$2b$12$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
}
items = [{"primaryEmail": f"{who}{i}@example.com", "passwordHash": h} for who, h in hashes.items() for i in range(200)]
items.append({"primaryEmail": "over@example.com", "passwordHash": f"$argon2id$v=19$m=262144,t=16,p=16${salt}${digest}"})
json.dump({"accounts": items}, open(sys.argv[1], "w"))
PY
batch "$WORK/ceiling.json" >/dev/null
log "(4) import: $(jq -c '[.results[] | .status] | group_by(.) | map({(.[0] | tostring): length}) | add' "$WORK/batch_out.json") (600 at the ceiling, 1 argon2 m=256MiB t=16 p=16)"
ACME_SVC=$(cli service-user create acme staging svc --json | jq -er .password)
ACME_TOKEN=$(curl -sf -H "$ACME" -H "$JSON" -d "{\"username\":\"svc\",\"password\":\"$ACME_SVC\"}" \
    "$BASE/v1/login/password" | jq -er .api_token)
# Let the workers' buffers go (a second of idleness), then read the baseline.
sleep 2
RSS_BEFORE=$(awk '/VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true # resets VmHWM
for who in argon2 scrypt bcrypt; do
    CLIENTS=()
    for c in $(seq 0 7); do
        (for n in $(seq 0 24); do
            curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "$ACME" -H "$JSON" -H "Authorization: Bearer $ACME_TOKEN" \
                -d "{\"email\":\"$who$((c * 25 + n))@example.com\",\"password\":\"not the password\"}" "$BASE/v1/client/login"
        done >>"$WORK/wrong_$who.txt") &
        CLIENTS+=($!)
    done
    # These eight only: a bare `wait` would also wait for the server.
    wait "${CLIENTS[@]}" || die "a wrong-login client failed"
    log "    wrong logins against $who hashes at the ceiling, 8 in parallel: $(summary "$WORK/wrong_$who.txt")"
done
RSS_PEAK=$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
log "    server RSS: $((RSS_BEFORE / 1024)) MB before, peak $((RSS_PEAK / 1024)) MB during (4); $(nproc) cores"
