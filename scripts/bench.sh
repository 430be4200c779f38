#!/usr/bin/env bash
# Load runs against a real server built from this tree; prints figures, asserts no timing.
#
#   scripts/bench.sh                 both runs below, on a release build
#   scripts/bench.sh summary         issue 11's table: sign-ins/s beside the argon2 floor measured
#                                    in the same run; p50/p99 of a page alone and during a
#                                    sign-in storm; SSR requests/s; memory idle, at the peak of
#                                    a storm and after it; the wasm/JS/CSS bytes raw and as
#                                    served; load time on a 4x slowed CPU; SMS parts per code.
#                                    On SQLite, and on PostgreSQL when one answers.
#   scripts/bench.sh pages           every page, signed in and out, under load with 1 and 2
#                                    tokio workers: requests/s, p50/p99, and stalled responses
#   scripts/bench.sh --smoke [RUN]   the same in seconds on the debug build (CI keeps it working)
#
# The load generator is wrk (Debian's, installed if missing), on the same machine as the
# server: the figures are this machine's, for comparing before and after a change
# (BENCHMARKS.md), never asserted. A stalled response is one that did not arrive within the
# client's timeout (wrk's "timeout" count); leptos 0.8 has known server-rendering stalls, and
# the pages run shows none happens on our pages. The command exits non-zero if a response
# stalled or failed where none may, or if the server could not be set up, never because of
# a speed.
#
# Settings: NIDAN_BENCH_SECONDS (per measurement; default 10, smoke 1),
# NIDAN_BENCH_CONNECTIONS (page runs, default 16), NIDAN_BENCH_STORM (sign-in storm
# connections, default 32), NIDAN_BENCH_PORT (default 3200), NIDAN_BENCH_POSTGRES (a server
# URL such as postgres://postgres@127.0.0.1:5432; default: that one, when it answers).
set -euo pipefail
export NIDAN_NEED_CHROMIUM=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$NIDAN_ROOT"

smoke=0
runs=()
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    pages | summary) runs+=("$arg") ;;
    *) echo "usage: scripts/bench.sh [--smoke] [summary] [pages]" >&2; exit 2 ;;
  esac
done
[ ${#runs[@]} -gt 0 ] || runs=(summary pages)

say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl

if [ "$smoke" = 1 ]; then
  seconds="${NIDAN_BENCH_SECONDS:-1}"
  settle=1
  profile=debug
  say "building the app (debug, smoke mode)"
  cargo leptos build --cargo-locked >&2
  cargo build --locked -p server --example argon2_floor >&2
else
  seconds="${NIDAN_BENCH_SECONDS:-10}"
  settle=10
  profile=release
  say "building the app (release, assets precompressed)"
  cargo leptos build --release --precompress --cargo-locked >&2
  cargo build --release --locked -p server --example argon2_floor >&2
fi
binary="$CARGO_TARGET_DIR/$profile/server"
floor_binary="$CARGO_TARGET_DIR/$profile/examples/argon2_floor"
connections="${NIDAN_BENCH_CONNECTIONS:-16}"
storm="${NIDAN_BENCH_STORM:-32}"
port="${NIDAN_BENCH_PORT:-3200}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
pg_databases=()

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  for db in "${pg_databases[@]}"; do
    psql "$pg_server/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the server on a fresh database: $1 names the run (its data folder and log), the
# rest are extra settings (`NAME=value`). Limits are raised, since every request of a load
# run comes from 127.0.0.1.
start_server() {
  local name="$1"; shift
  local data="$work/data-$name"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what runs there, or set NIDAN_BENCH_PORT" >&2
    exit 1
  fi
  env LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
    NIDAN_DATA_DIR="$data" NIDAN_SMS_LIMIT_PER_IP_HOUR=1000000 NIDAN_SMS_LIMIT_GLOBAL_HOUR=1000000 \
    NIDAN_SIGNUP_FREE_PER_IP=1000000 NIDAN_LOGIN_FREE_FAILURES_PER_IP=1000000 \
    NIDAN_LOGIN_FREE_FAILURES_PER_ACCOUNT=1000000 NIDAN_LOGIN_ACCOUNT_CEILING=1000000 \
    RUST_LOG=warn,server=info "$@" "$binary" >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$base/login" && return 0
    sleep 0.1
  done
  echo "the server did not start; its log:" >&2
  cat "$work/server-$name.log" >&2
  exit 1
}

# Signs up an account bench$1@example.jp and prints its session cookie (`nidan_session=…`).
session_cookie() {
  local jar="$work/jar-$1"
  rm -f "$jar"
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" -H 'Accept: application/json' \
    --data-urlencode "email=bench$1@example.jp" --data-urlencode 'password=correct horse battery' \
    "$base/api/sign_up"
  awk '$6 == "nidan_session" { print "nidan_session=" $7 }' "$jar"
}

# One wrk run of GET $1 (cookie $2, $3 connections); prints
# "requests req/s p50 p99 stalled failed".
load() {
  local url="$1" cookie="$2" conns="${3:-$connections}" out
  out="$(wrk -t1 -c"$conns" -d"${seconds}s" --timeout 5s --latency \
    ${cookie:+-H "Cookie: $cookie"} -H 'Accept: text/html' -H 'Accept-Encoding: br, gzip' "$url")"
  wrk_figures <<<"$out"
}

# A person opening GET $1 now and then (each of 2 connections waits 20 ms between
# requests): its latency, without taking the machine from what runs beside it. Prints
# "requests req/s p50 p99 stalled failed".
probe() {
  wrk -t1 -c2 -d"${seconds}s" --timeout 5s --latency -s "$work/probe.lua" \
    -H 'Accept: text/html' -H 'Accept-Encoding: br, gzip' "$1" | wrk_figures
}

# Reads wrk's report; prints "requests req/s p50 p99 stalled failed".
wrk_figures() {
  awk '
    / requests in / { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Socket errors:/ { gsub(",", ""); timeouts = $NF; failed += $4 + $6 + $8 }
    /Non-2xx or 3xx responses:/ { failed += $NF }
    END { printf "%s %s %s %s %d %d\n", requests, rps, p50, p99, timeouts, failed }
  '
}

# The server's resident memory now (VmRSS) or at its peak (VmHWM), in MB.
rss_mb() {
  awk -v key="$1:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status"
}

# A sign-in storm: $1 connections POST /api/log_in for the accounts bench1..bench$2 in turn,
# for the run's seconds. Prints "signins/s refused failed" (refused: 503, asked to come back).
sign_in_storm() {
  local conns="$1" accounts="$2" out
  out="$(NIDAN_BENCH_ORIGIN="$base" NIDAN_BENCH_ACCOUNTS="$accounts" \
    wrk -t1 -c"$conns" -d"${seconds}s" --timeout 10s -s "$work/log_in.lua" "$base/api/log_in")"
  # wrk reports non-2xx answers together; the Lua script counts each status itself. A
  # request that got no answer at all (timeout, reset) is in wrk's "Socket errors" line.
  awk '
    /^status / { count[$2] = $3 }
    /^seconds / { secs = $2 }
    /Socket errors:/ { gsub(",", ""); count["none"] += $4 + $6 + $8 + $NF }
    END {
      ok = count["200"] + 0; refused = count["503"] + 0; other = 0
      for (s in count) if (s != "200" && s != "503" && count[s] > 0) { other += count[s]; which = which " " s "x" count[s] }
      printf "%.1f %d %d%s\n", ok / secs, refused, other, which
    }
  ' <<<"$out"
}

cat >"$work/probe.lua" <<'LUA'
function delay() return 20 end
LUA

cat >"$work/log_in.lua" <<'LUA'
-- POST /api/log_in as a script would, for the accounts bench1..benchN in turn; counts each
-- answer's status and prints them at the end ("status 200 1234", "seconds 10.0").
local accounts = tonumber(os.getenv("NIDAN_BENCH_ACCOUNTS") or "1")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Origin"] = os.getenv("NIDAN_BENCH_ORIGIN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() statuses = {} end
function request()
  i = i % accounts + 1
  return wrk.format(nil, nil, nil, "email=bench" .. i .. "%40example.jp&password=correct+horse+battery")
end
-- A client told 503 waits the second that Retry-After asks before its next attempt, as a
-- browser's script or a polite client does; without it the storm would measure how fast
-- wrk can collect refusals rather than how fast the server signs people in. wrk does not
-- say which connection delay() is for, so each refusal owes one wait, paid by the next
-- request to be sent: as many waits as refusals, if not always on the same connection.
local owed = 0
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 then owed = owed + 1 end
end
function delay()
  if owed > 0 then owed = owed - 1; return 1000 end
  return 0
end
function done(summary)
  local total = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do total[s] = (total[s] or 0) + n end
  end
  for s, n in pairs(total) do print("status " .. s .. " " .. n) end
  print(string.format("seconds %.2f", summary.duration / 1e6))
end
LUA

# Stops the run when a measured request stalled or failed: $1 names it, $2 and $3 count.
no_losses() {
  if [ "$2" != 0 ] || [ "$3" != 0 ]; then
    echo "$1: $2 stalled and $3 failed responses" >&2
    exit 1
  fi
}

# A sign-in of a storm got neither 200 nor 503: say which answers, and what the server logged.
storm_failed() {
  echo "$1: $2 sign-ins of the storm failed (neither 200 nor 503; status x count, \"none\" for no answer:$3); the server's log:" >&2
  tail -n 20 "$work/server-$1.log" >&2
  exit 1
}

# One database's column of the summary, into the associative array named $1; the rest of
# the arguments are the server's settings for that database.
declare -A sqlite_col postgres_col
measure_database() {
  local -n col="$1"; shift
  local name="$1"; shift
  local accounts=$storm
  start_server "$name" "$@"
  sleep 1
  col[idle]="$(rss_mb VmRSS)"
  say "$name: signing up $accounts accounts"
  for i in $(seq 1 "$accounts"); do
    [ -n "$(session_cookie "$i")" ] || { echo "could not sign up bench$i" >&2; exit 1; }
  done
  local cookie
  cookie="$(session_cookie settings)"
  curl -fs -o "$work/settings.html" -H "Cookie: $cookie" "$base/settings"
  grep -q "benchsettings@example.jp" "$work/settings.html" \
    || { echo "the session cookie does not sign in" >&2; exit 1; }
  # The storm's figures mean something only if its request really signs in.
  local status
  status="$(curl -s -o /dev/null -H "Origin: $base" -H 'Accept: application/json' \
    --data-urlencode "email=bench1@example.jp" --data-urlencode 'password=correct horse battery' \
    -w '%{http_code}' "$base/api/log_in")"
  [ "$status" = 200 ] || { echo "POST /api/log_in does not sign bench1 in ($status)" >&2; exit 1; }

  say "$name: pages alone"
  read -r _ _ p50 p99 stalled failed < <(probe "$base/login")
  no_losses "$name: GET /login alone" "$stalled" "$failed"
  col[alone]="$p50 / $p99"
  read -r _ rps _ _ stalled failed < <(load "$base/login" "")
  no_losses "$name: GET /login under load" "$stalled" "$failed"
  col[ssr_login]="$rps"
  read -r _ rps _ _ stalled failed < <(load "$base/settings" "$cookie")
  no_losses "$name: GET /settings under load" "$stalled" "$failed"
  col[ssr_settings]="$rps"

  # The ratio's storms have nothing else running beside them. This machine's speed drifts
  # by ten per cent and more within a minute (argon2 lives on memory bandwidth, which the
  # host's other tenants share), so one floor taken long before or after a storm can be far
  # off: the bare argon2 loop and the storm take turns, floor, storm, floor, storm, ...,
  # floor, each storm is compared with the mean of the floors just before and just after
  # it, and the row shows the median of those ratios with their range. The floors run
  # half as long as a storm.
  local rounds=3 floor_secs=$(( seconds > 1 ? seconds / 2 : 1 ))
  [ "$smoke" = 1 ] && rounds=1
  local floors=() ratios=() total_signins=0 total_refused=0 signins refused other statuses
  measure_floor() {
    local f
    f="$("$floor_binary" "$floor_secs" | awk '{ print $2 }')"
    [ -n "$f" ] || { echo "the argon2 floor printed nothing" >&2; exit 1; }
    floors+=("$f")
  }
  measure_floor
  echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true # peak RSS from here on
  local round
  for round in $(seq 1 "$rounds"); do
    say "$name: sign-in storm $round of $rounds ($storm connections), nothing else requested"
    read -r signins refused other statuses < <(sign_in_storm "$storm" "$accounts")
    [ "$other" = 0 ] || storm_failed "$name" "$other" "$statuses"
    sleep 1 # the hashes still queued when wrk stopped
    measure_floor
    ratios+=("$(awk -v s="$signins" -v a="${floors[-2]}" -v b="${floors[-1]}" \
      'BEGIN { f = (a + b) / 2; printf "%.3f", (f > 0 ? s / f : 0) }')")
    total_signins="$(awk -v t="$total_signins" -v s="$signins" 'BEGIN { print t + s }')"
    total_refused=$(( total_refused + refused ))
  done
  local floor
  floor="$(printf '%s\n' "${floors[@]}" | awk '{ t += $1 } END { printf "%.1f", t / NR }')"
  col[floor]="$(printf '%s\n' "${floors[@]}" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo " – " hi }')"
  col[signins]="$(awk -v t="$total_signins" -v n="$rounds" 'BEGIN { printf "%.1f", t / n }')"
  col[storm_refused]="$total_refused"
  col[ratio]="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '
    { r[NR] = $1 }
    END {
      m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
      if (NR > 1) printf "%.2f (%.2f – %.2f)", m, r[1], r[NR]; else printf "%.2f", m
    }')"

  # The same storm again with a page requested 100 times a second: the page's latency,
  # and what those requests take from the sign-ins.
  say "$name: sign-in storm ($storm connections), a page requested meanwhile"
  sign_in_storm "$storm" "$accounts" >"$work/storm" &
  local storm_pid=$!
  read -r _ _ p50 p99 stalled failed < <(probe "$base/login")
  no_losses "$name: GET /login during the storm" "$stalled" "$failed"
  wait "$storm_pid"
  read -r signins refused other statuses <"$work/storm"
  [ "$other" = 0 ] || storm_failed "$name" "$other" "$statuses"
  col[signins_probed]="$signins"
  col[ratio_probed]="$(awk -v a="$signins" -v b="$floor" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  col[during]="$p50 / $p99"
  col[peak]="$(rss_mb VmHWM)"

  say "$name: sign-in storm with 256 connections"
  echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true
  read -r signins refused other statuses < <(sign_in_storm 256 "$accounts")
  col[peak256]="$(rss_mb VmHWM)"
  col[refused256]="$refused"
  [ "$other" = 0 ] || storm_failed "$name" "$other" "$statuses"
  sleep "$settle"
  col[settled]="$(rss_mb VmRSS)"
  stop_server
}

# A row of the file table: name, raw bytes, bytes and encoding on the wire, Cache-Control.
asset_row() {
  local file="$1" path="/pkg/$(basename "$1")" wire
  wire="$(curl -fs -o /dev/null -H 'Accept-Encoding: br, gzip' \
    -w '%{size_download} %header{content-encoding}|%header{cache-control}' "$base$path")"
  local bytes="${wire%% *}" rest="${wire#* }"
  printf '| `%s` | %s | %s | %s | %s |\n' "$path" "$(stat -c %s "$file")" "$bytes" \
    "${rest%%|*}" "${rest#*|}"
}

run_summary() {
  local dbs=(sqlite)
  pg_server="${NIDAN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
  if command -v psql >/dev/null && psql "$pg_server/postgres" -qc 'SELECT 1' >/dev/null 2>&1; then
    local db="nidan_bench_$$"
    psql "$pg_server/postgres" -qc "CREATE DATABASE $db" >/dev/null
    pg_databases+=("$db")
    dbs+=(postgres)
  else
    say "no PostgreSQL at $pg_server: SQLite only"
  fi

  measure_database sqlite_col sqlite
  if [ ${#dbs[@]} = 2 ]; then
    measure_database postgres_col postgres "DATABASE_URL=$pg_server/${pg_databases[0]}"
  fi

  local cores
  cores="$(nproc)"
  printf '\n## Summary (%s build, %s cores, %s s per figure, the load generator on the same machine)\n\n' "$profile" "$cores" "$seconds"
  printf '| what | SQLite | PostgreSQL | goal |\n| --- | ---: | ---: | --- |\n'
  row() {
    local label="$1" key="$2" goal="$3"
    printf '| %s | %s | %s | %s |\n' "$label" "${sqlite_col[$key]:-}" "${postgres_col[$key]:--}" "$goal"
  }
  row "argon2 floor: bare verifications/s on $cores threads, lowest – highest of the turns" floor ""
  row "password sign-ins/s ($storm connections), mean of the storms" signins ""
  row "sign-ins ÷ floor: each storm over the mean of the floors beside it; median (range)" ratio "≥ 0.9"
  row "sign-ins refused with 503 during those storms" storm_refused ""
  row "password sign-ins/s, a second storm with \`GET /login\` 100 times a second beside it" signins_probed ""
  row "those sign-ins ÷ the mean floor" ratio_probed ""
  row "\`GET /login\` p50 / p99, alone (2 connections, 20 ms apart)" alone ""
  row "\`GET /login\` p50 / p99, during the second storm" during "p99 ≤ 10 ms"
  row "SSR req/s \`GET /login\` ($connections connections)" ssr_login ""
  row "SSR req/s \`GET /settings\` signed in ($connections connections)" ssr_settings ""
  row "RSS idle after start (MB)" idle "≤ 32"
  row "RSS peak during the $storm-connection storms (MB)" peak "≤ 128"
  row "RSS peak during a 256-connection storm (MB)" peak256 "≤ 128"
  row "sign-ins refused with 503 during the 256-connection storm" refused256 ""
  row "RSS $settle s after the storms (MB)" settled "≤ 48"

  # Files and pages as a browser gets them: from the SQLite server again.
  start_server files
  printf '\n### Files as served (bytes; a browser that accepts br and gzip)\n\n'
  printf '| file | raw | on the wire | encoding | Cache-Control |\n| --- | ---: | ---: | --- | --- |\n'
  local f
  for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
    asset_row "$f"
  done
  local page raw wire
  for page in /login /signup; do
    raw="$(curl -fs -o /dev/null -w '%{size_download}' "$base$page")"
    wire="$(curl -fs -o /dev/null -H 'Accept-Encoding: br, gzip' \
      -w '%{size_download} %header{content-encoding}|%header{cache-control}' "$base$page")"
    printf '| `%s` (page) | %s | %s | %s | %s |\n' "$page" "$raw" "${wire%% *}" \
      "$(cut -d'|' -f1 <<<"${wire#* }")" "${wire#*|}"
  done

  local runs=9
  [ "$smoke" = 1 ] && runs=1
  if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    local js nojs
    js="$(cd end2end && node bench/load-time.mjs "$base/login" "$runs" 4)"
    nojs="$(cd end2end && NIDAN_BENCH_NO_JS=1 node bench/load-time.mjs "$base/login" "$runs" 4)"
    # One figure of load-time.mjs's line by its name.
    figure() { awk -v name="$2" '{ for (i = 1; i < NF; i += 2) if ($i == name) print $(i + 1) }' <<<"$1"; }
    printf '\n`/login` in Chromium, CPU slowed 4x, cold HTTP cache, median of %s loads (goal: DOMContentLoaded ≤ 120 ms):\n\n' "$runs"
    printf '| how the page is opened | DOMContentLoaded | hydrated | JavaScript off: DOMContentLoaded | an almost empty page: DOMContentLoaded |\n'
    printf '| --- | ---: | ---: | ---: | ---: |\n'
    printf '| in a tab that is open (the browser running) | %s ms | %s ms | %s ms | %s ms |\n' \
      "$(figure "$js" open_tab_dcl_ms)" "$(figure "$js" open_tab_hydrated_ms)" \
      "$(figure "$nojs" open_tab_dcl_ms)" "$(figure "$nojs" empty_open_tab_dcl_ms)"
    printf '| in a new tab (a renderer process started for it) | %s ms | %s ms | %s ms | %s ms |\n' \
      "$(figure "$js" new_tab_dcl_ms)" "$(figure "$js" new_tab_hydrated_ms)" \
      "$(figure "$nojs" new_tab_dcl_ms)" "$(figure "$nojs" empty_new_tab_dcl_ms)"
  else
    printf '\n(no Chromium: load time not measured)\n'
  fi
  stop_server

  # The longest service name the configuration allows and a 30-character host: the code
  # SMS as the server builds it at start.
  local host="auth-0123456789.nidan-example.jp"
  host="${host:0:30}"
  start_server sms NIDAN_SERVICE_NAME="二段認証サービス二段" NIDAN_PUBLIC_URL="https://$host"
  local line
  line="$(sed 's/\x1b\[[0-9;]*m//g' "$work/server-sms.log" | grep -m1 'a code SMS takes' || true)"
  stop_server
  printf '\nSMS per code (service name of 10 characters, host of %s): %s part(s), %s UTF-16 units (goal: 1 part)\n' \
    "${#host}" "$(grep -o 'parts=[0-9]*' <<<"$line" | cut -d= -f2)" "$(grep -o 'utf16_units=[0-9]*' <<<"$line" | cut -d= -f2)"
}

run_pages() {
  local total_stalled=0 total_failed=0
  printf '\n## Pages under load (%s connections, %s s each, client timeout 5 s)\n\n' "$connections" "$seconds"
  printf '| workers | page | signed in | requests | req/s | p50 | p99 | stalled | failed |\n'
  printf '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  for workers in 1 2; do
    start_server "pages-$workers" TOKIO_WORKER_THREADS="$workers"
    local cookie
    cookie="$(session_cookie "$workers")"
    [ -n "$cookie" ] || { echo "could not sign up" >&2; exit 1; }
    # The signed-in rows mean something only if the cookie really signs in.
    curl -fs -o "$work/settings.html" -H "Cookie: $cookie" "$base/settings"
    grep -q "bench$workers@example.jp" "$work/settings.html" \
      || { echo "the session cookie does not sign in" >&2; exit 1; }
    for page in / /login /signup /login/verify; do
      read -r n rps p50 p99 stalled failed < <(load "$base$page" "")
      printf '| %s | `%s` | no | %s | %s | %s | %s | %s | %s |\n' "$workers" "$page" "$n" "$rps" "$p50" "$p99" "$stalled" "$failed"
      total_stalled=$((total_stalled + stalled)); total_failed=$((total_failed + failed))
    done
    for page in / /settings '/settings?dialog=phone' '/settings?dialog=recovery' /settings/password; do
      read -r n rps p50 p99 stalled failed < <(load "$base$page" "$cookie")
      printf '| %s | `%s` | yes | %s | %s | %s | %s | %s | %s |\n' "$workers" "$page" "$n" "$rps" "$p50" "$p99" "$stalled" "$failed"
      total_stalled=$((total_stalled + stalled)); total_failed=$((total_failed + failed))
    done
    stop_server
  done
  printf '\nstalled responses: %s, failed responses: %s\n' "$total_stalled" "$total_failed"
  [ "$total_stalled" = 0 ] && [ "$total_failed" = 0 ]
}

# Not `run_x || …`: bash ignores `set -e` inside a command whose status is tested, and a
# failed step must stop the run rather than print a figure made of nothing.
for run in "${runs[@]}"; do
  "run_$run"
done
