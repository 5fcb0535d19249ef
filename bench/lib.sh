# Helpers of bench/run.sh (sourced, not run): process cleanup, HTTP calls,
# wrk runs and their parsed results. They use run.sh's globals (WORK, BIN,
# HOST, BASE, SERVER_PID, ...).

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Stops what the run started (the wrk or other child in flight, the RSS
# poller, the server) and removes the data dir unless BENCH_KEEP_DATA=1.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$CHILD_PID" ]] && kill -0 "$CHILD_PID" 2>/dev/null; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if [[ -n "$POLL_PID" ]] && kill -0 "$POLL_PID" 2>/dev/null; then
        kill "$POLL_PID" 2>/dev/null || true
        wait "$POLL_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ $rc -ne 0 && -f "$WORK/server.log" ]]; then
            log "last lines of the server log:"
            tail -n 20 "$WORK/server.log" >&2 || true
        fi
        if [[ "${BENCH_KEEP_DATA:-0}" == 1 ]]; then
            log "kept data dir and server log in $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}

# Runs a long command in the background and waits for it, so that INT/TERM
# reach the trap at once instead of after the command (wrk, for one, treats
# SIGINT as "stop early and report").  child OUTFILE CMD...
child() {
    local out=$1
    shift
    "$@" >"$out" 2>"$out.err" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rss_kib() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; } # KiB -> MB (10^6 bytes, as the targets)

# Background sampler of the server's VmRSS every 200 ms; the peak goes to a file.
start_rss_poll() {
    local out="$WORK/rss_peak_$1"
    echo 0 >"$out"
    (
        peak=0
        while kill -0 "$SERVER_PID" 2>/dev/null; do
            r=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
            if [[ -n "$r" && "$r" -gt "$peak" ]]; then peak=$r; echo "$peak" >"$out"; fi
            sleep 0.2
        done
    ) &
    POLL_PID=$!
}
stop_rss_poll() {
    kill "$POLL_PID" 2>/dev/null || true
    wait "$POLL_PID" 2>/dev/null || true
    POLL_PID=""
    cat "$WORK/rss_peak_$1"
}

# Requests go to the Host in TARGET_HOST when set (another instance or
# environment), else to HOST.

# http METHOD PATH [BODY] [TOKEN]: sets HTTP_STATUS and HTTP_BODY (no subshell)
HTTP_STATUS=""
HTTP_BODY=""
http() {
    local method=$1 path=$2 body=${3:-} token=${4:-}
    local args=(-sS -o "$WORK/http_body" -w '%{http_code}' -X "$method" -H "Host: ${TARGET_HOST:-$HOST}")
    [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
    [[ -n "$body" ]] && args+=(-H "Content-Type: application/json" --data-binary "$body")
    HTTP_STATUS=$(curl "${args[@]}" "$BASE$path" || echo 000)
    HTTP_BODY=$(cat "$WORK/http_body" 2>/dev/null || true)
}
expect() { # expect STATUS WHAT
    [[ "$HTTP_STATUS" == "$1" ]] || die "$2: expected HTTP $1, got $HTTP_STATUS: $HTTP_BODY"
}

# Server CPU time (user + system) in clock ticks.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SERVER_PID/stat"; }

# Runs wrk; the "BENCH k=v ..." line is stored for field().
# run_wrk NAME CONNS SECONDS PATH [extra env assignments...] -- [extra wrk args]
declare -A R
run_wrk() {
    local name=$1 conns=$2 secs=$3 path=$4
    shift 4
    local envs=() extra=()
    while (($#)) && [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
    (($#)) && shift
    extra=("$@")
    local out="$WORK/wrk_$name.txt"
    child "$out" env "${envs[@]}" wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$LUA" \
        -H "Host: ${TARGET_HOST:-$HOST}" "${extra[@]}" "$BASE$path" || { cat "$out" "$out.err" >&2; die "wrk failed ($name)"; }
    local line
    line=$(grep '^BENCH ' "$out" | tail -n1) || { cat "$out" >&2; die "no result from wrk ($name)"; }
    local kv
    for kv in ${line#BENCH }; do R["$name.${kv%%=*}"]=${kv#*=}; done
}
field() { echo "${R[$1.$2]:-}"; }

# scenario NAME CONNS PATH ENV... -- WRK_ARGS...: warm-up, then the measured run
scenario() {
    local name=$1 conns=$2 path=$3
    shift 3
    if [[ "$WARMUP" != 0 ]]; then
        run_wrk "warmup_$name" "$conns" "$WARMUP" "$path" "$@"
    fi
    start_rss_poll "$name"
    local ticks0
    ticks0=$(cpu_ticks)
    run_wrk "$name" "$conns" "$SECONDS_RUN" "$path" "$@"
    R["$name.cpu_s"]=$(awk -v t="$(( $(cpu_ticks) - ticks0 ))" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
    R["$name.rss_peak_kib"]=$(stop_rss_poll "$name")
    log "$name: $(field "$name" rps) req/s, non-2xx/3xx $(field "$name" non2xx3xx), p99 $(field "$name" lat_p99_ms) ms, peak RSS $(mb "$(field "$name" rss_peak_kib)") MB"
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
verdict() { awk "BEGIN { exit !($1) }" && echo PASS || echo MISS; }
sock_errs() {
    echo $(( $(field "$1" sock_connect) + $(field "$1" sock_read) + $(field "$1" sock_write) + $(field "$1" sock_timeout) ))
}
