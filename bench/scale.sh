# Accounts at scale (sourced by bench/run.sh when BENCH_MILLION=1): the
# account lookups and list pages at 1,000 and at BENCH_LARGE_ACCOUNTS
# (1,000,000) accounts, measured side by side in one run, so a query that
# scans an environment shows as a ratio far above 1.
#
# Instance `scale`: its staging environment holds the small set, production
# the large one; both are imported through POST /v1/partners/accounts/batch
# and share the instance's settings, table and server. Each scenario runs on
# the small set and then at once on the large one, so background load on
# the machine hits both alike.

SCALE_PLATFORM=scale
SCALE_SMALL=1000
SCALE_LARGE=${BENCH_LARGE_ACCOUNTS:-1000000}
SCALE_KINDS=(by_id by_email first_page deep_page partner_email)
SCALE_SETS=(small large)
SCALE_SCENARIOS=()
declare -A SCALE_HOST SCALE_KEY SCALE_TOKEN SCALE_SVC_PASSWORD SCALE_COUNT

# Operator CLI part, before the server starts.
scale_cli_setup() {
    log "setting up instance '$SCALE_PLATFORM' for the accounts-at-scale scenarios"
    cli instance create "$SCALE_PLATFORM" --name Scale --region eu --app-url https://app.example.com >/dev/null
    cli instance features "$SCALE_PLATFORM" --enable client-accounts --enable partners >/dev/null
    cli instance update "$SCALE_PLATFORM" --rate-limit default=100000000 >/dev/null
    local set env partner
    for set in "${SCALE_SETS[@]}"; do
        env=staging
        [[ $set == large ]] && env=production
        SCALE_SVC_PASSWORD[$set]=$(cli service-user create "$SCALE_PLATFORM" "$env" scale-svc --json | jq -er .password) \
            || die "service-user create ($env) failed"
        partner=$(cli partner create "$SCALE_PLATFORM" "$env" "Scale importer" --json | jq -er .id)
        cli partner approve "$partner" >/dev/null
        SCALE_KEY[$set]=$(cli key issue "$partner" --json | jq -er .key)
    done
    SCALE_COUNT[small]=$SCALE_SMALL
    SCALE_COUNT[large]=$SCALE_LARGE
}

thousands() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$1"; }

scale_host() { # scale_host SET
    if [[ $1 == large ]]; then echo "api.$SCALE_PLATFORM.localhost:$PORT"; else echo "api.staging.$SCALE_PLATFORM.localhost:$PORT"; fi
}

scale_import() { # scale_import SET: imports the set, writes its request path files
    local set=$1 dir="$WORK/scale_$1"
    SCALE_HOST[$set]=$(scale_host "$set")
    log "importing $(thousands "${SCALE_COUNT[$set]}") accounts into ${SCALE_HOST[$set]%:*} (batches of 1,000 with a bcrypt cost-4 passwordHash)"
    child "$WORK/import_$set.log" python3 "$BENCH_DIR/import_accounts.py" "$BASE" "${SCALE_HOST[$set]}" "${SCALE_KEY[$set]}" \
        "${SCALE_COUNT[$set]}" "$set" "$dir" || { cat "$WORK/import_$set.log.err" >&2; die "import of the $set set failed"; }
    R["scale_import_$set.seconds"]=$(<"$dir/seconds.txt")
    log "imported the $set set in $(field "scale_import_$set" seconds) s"
    sed 's|^|/v1/client/|' "$dir/ids.txt" >"$dir/by_id.paths"
    sed 's|^|/v1/client?email=|' "$dir/emails.txt" >"$dir/by_email.paths"
    sed 's|^|/v1/partners/accounts?email=|' "$dir/emails.txt" >"$dir/partner_email.paths"
}

scale_login() { # scale_login SET: a fresh service token for the set's environment
    local set=$1
    TARGET_HOST=${SCALE_HOST[$set]}
    http POST /v1/login/password "$(jq -nc --arg p "${SCALE_SVC_PASSWORD[$set]}" '{username: "scale-svc", password: $p}')"
    expect 200 "service login ($set set)"
    SCALE_TOKEN[$set]=$(jq -er .api_token <<<"$HTTP_BODY") || die "no api_token in $HTTP_BODY"
    # Every kind answers 200 with what it should, before anything is timed.
    local id email cursor
    id=$(head -n1 "$WORK/scale_$set/ids.txt")
    email=$(head -n1 "$WORK/scale_$set/emails.txt")
    cursor=$(<"$WORK/scale_$set/cursor.txt")
    http GET "/v1/client/$id" "" "${SCALE_TOKEN[$set]}"; expect 200 "lookup by id ($set set)"
    http GET "/v1/client?email=$email" "" "${SCALE_TOKEN[$set]}"; expect 200 "lookup by email ($set set)"
    [[ $(jq -r '.data | length' <<<"$HTTP_BODY") == 1 ]] || die "lookup by email ($set set) found $HTTP_BODY"
    http GET "/v1/client?limit=50&cursor=$cursor" "" "${SCALE_TOKEN[$set]}"; expect 200 "deep page ($set set)"
    [[ $(jq -r '.data | length' <<<"$HTTP_BODY") == 50 ]] || die "deep page ($set set) is not full"
    unset TARGET_HOST
}

scale_run() { # scale_run KIND SET
    local kind=$1 set=$2 name="scale_$1_$2" dir="$WORK/scale_$2"
    local auth=(-H "Authorization: Bearer ${SCALE_TOKEN[$set]}") envs=(BENCH_METHOD=GET) path
    case $kind in
        by_id) path=/v1/client/x; envs+=("BENCH_PATHS=$dir/by_id.paths") ;;
        by_email) path=/v1/client; envs+=("BENCH_PATHS=$dir/by_email.paths") ;;
        first_page) path="/v1/client?limit=50" ;;
        deep_page) path="/v1/client?limit=50&cursor=$(<"$dir/cursor.txt")" ;;
        partner_email)
            path=/v1/partners/accounts
            envs+=("BENCH_PATHS=$dir/partner_email.paths")
            auth=(-H "x-api-key: ${SCALE_KEY[$set]}")
            ;;
    esac
    TARGET_HOST=${SCALE_HOST[$set]}
    scenario "$name" "$CONNS" "$path" "${envs[@]}" -- "${auth[@]}"
    unset TARGET_HOST
    SCALE_SCENARIOS+=("$name")
}

# After the other scenarios: imports both sets, then measures each kind on
# the small set and right after on the large one.
scale_measure() {
    scale_import small
    scale_import large
    sleep 2
    scale_login small
    scale_login large
    local kind set
    for kind in "${SCALE_KINDS[@]}"; do
        log "(f) $(scale_label "$kind"), $CONNS connections, ${SECONDS_RUN}s on each set"
        for set in "${SCALE_SETS[@]}"; do scale_run "$kind" "$set"; done
    done
}

scale_label() { # scale_label KIND or scale_label scale_KIND_SET
    local kind=${1#scale_} set=""
    case $kind in *_small | *_large) set=" (${kind##*_} set)"; kind=${kind%_*} ;; esac
    case $kind in
        by_id) echo "GET /v1/client/{id}, 1,000 ids in turn$set" ;;
        by_email) echo "GET /v1/client?email=, 1,000 emails in turn$set" ;;
        first_page) echo "GET /v1/client?limit=50$set" ;;
        deep_page) echo "GET /v1/client?limit=50&cursor= at 90 %$set" ;;
        partner_email) echo "GET /v1/partners/accounts?email=, 1,000 emails in turn$set" ;;
    esac
}

scale_report() { # the section of results/latest.md
    local large small kind s l rr pr
    large=$(thousands "$SCALE_LARGE")
    small=$(thousands "$SCALE_SMALL")
    echo
    echo "## (f) Accounts at scale: $small vs $large accounts in one environment"
    echo
    echo "Imported through the batch endpoint in $(field scale_import_small seconds) s ($small) and $(field scale_import_large seconds) s ($large); $CONNS connections; each row's two runs back to back."
    echo
    echo "| Scenario | $small: req/s, p99 | $large: req/s, p99 | req/s $large / $small | p99 $large / $small | Target | |"
    echo "|---|---|---|---|---|---|---|"
    for kind in "${SCALE_KINDS[@]}"; do
        s=scale_${kind}_small
        l=scale_${kind}_large
        rr=$(calc "%.2f" "$(field "$l" rps) / $(field "$s" rps)")
        pr=$(calc "%.2f" "$(field "$l" lat_p99_ms) / $(field "$s" lat_p99_ms)")
        echo "| \`$(scale_label "$kind")\` | $(calc "%.0f" "$(field "$s" rps)"), $(field "$s" lat_p99_ms) ms | $(calc "%.0f" "$(field "$l" rps)"), $(field "$l" lat_p99_ms) ms | **$rr** | **$pr** | req/s ≥ 0.5, p99 ≤ 2 | $(verdict "$rr >= 0.5 && $pr <= 2") |"
    done
}
