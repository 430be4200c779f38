#!/usr/bin/env bash
# Load runs against a real server built from this tree; prints figures, asserts no timing.
#
#   scripts/bench.sh                 every run below, on a release build
#   scripts/bench.sh pages           every page, signed in and out, under load with 1 and 2
#                                    tokio workers: requests/s, p50/p99, and stalled responses
#   scripts/bench.sh --smoke [RUN]   the same in seconds on the debug build (CI keeps it working)
#
# A stalled response is one that did not arrive within the client's timeout (wrk's
# "timeout" count). leptos 0.8 has known server-rendering stalls (a resource on a single
# worker, one resource read by several Suspense boundaries, route-list generation while
# rendering); this run shows that none of them happens on our pages. It exits non-zero if
# any response stalled or failed, never because of a speed.
#
# Settings: NIDAN_BENCH_SECONDS (per page and worker count; default 10, smoke 1),
# NIDAN_BENCH_CONNECTIONS (default 16), NIDAN_BENCH_PORT (default 3200).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$NIDAN_ROOT"

smoke=0
runs=()
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    pages) runs+=("$arg") ;;
    *) echo "usage: scripts/bench.sh [--smoke] [pages]" >&2; exit 2 ;;
  esac
done
[ ${#runs[@]} -gt 0 ] || runs=(pages)

say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl

if [ "$smoke" = 1 ]; then
  seconds="${NIDAN_BENCH_SECONDS:-1}"
  say "building the app (debug, smoke mode)"
  cargo leptos build --cargo-locked >&2
  binary="$CARGO_TARGET_DIR/debug/server"
else
  seconds="${NIDAN_BENCH_SECONDS:-10}"
  say "building the app (release)"
  cargo leptos build --release --cargo-locked >&2
  binary="$CARGO_TARGET_DIR/release/server"
fi
connections="${NIDAN_BENCH_CONNECTIONS:-16}"
port="${NIDAN_BENCH_PORT:-3200}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# Starts the server on a fresh SQLite database with $1 tokio workers; limits raised, since
# every request of a load run comes from 127.0.0.1.
start_server() {
  local workers="$1" data="$work/data-$1"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what runs there, or set NIDAN_BENCH_PORT" >&2
    exit 1
  fi
  TOKIO_WORKER_THREADS="$workers" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
    NIDAN_DATA_DIR="$data" NIDAN_SMS_LIMIT_PER_IP_HOUR=1000000 NIDAN_SMS_LIMIT_GLOBAL_HOUR=1000000 \
    NIDAN_SIGNUP_FREE_PER_IP=1000000 NIDAN_LOGIN_FREE_FAILURES_PER_IP=1000000 \
    RUST_LOG=warn "$binary" >"$work/server-$workers.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$base/login" && return 0
    sleep 0.1
  done
  echo "the server did not start; its log:" >&2
  cat "$work/server-$workers.log" >&2
  exit 1
}

# Signs up a fresh account and prints its session cookie (`nidan_session=…`).
session_cookie() {
  local jar="$work/jar-$1"
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" -H 'Accept: application/json' \
    --data-urlencode "email=bench$1@example.jp" --data-urlencode 'password=correct horse battery' \
    "$base/api/sign_up"
  awk '$6 == "nidan_session" { print "nidan_session=" $7 }' "$jar"
}

# One wrk run; prints "requests req/s p50 p99 stalled failed".
load() {
  local url="$1" cookie="$2" out
  out="$(wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s --latency \
    ${cookie:+-H "Cookie: $cookie"} -H 'Accept: text/html' "$url")"
  awk '
    / requests in / { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Socket errors:/ { gsub(",", ""); timeouts = $NF; failed += $4 + $6 + $8 }
    /Non-2xx or 3xx responses:/ { failed += $NF }
    END { printf "%s %s %s %s %d %d\n", requests, rps, p50, p99, timeouts, failed }
  ' <<<"$out"
}

run_pages() {
  local total_stalled=0 total_failed=0
  printf '\n## Pages under load (%s connections, %s s each, client timeout 5 s)\n\n' "$connections" "$seconds"
  printf '| workers | page | signed in | requests | req/s | p50 | p99 | stalled | failed |\n'
  printf '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  for workers in 1 2; do
    start_server "$workers"
    local cookie
    cookie="$(session_cookie "$workers")"
    [ -n "$cookie" ] || { echo "could not sign up" >&2; exit 1; }
    # The signed-in rows mean something only if the cookie really signs in.
    curl -fs -H "Cookie: $cookie" "$base/settings" | grep -q "bench$workers@example.jp" \
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

status=0
for run in "${runs[@]}"; do
  "run_$run" || status=1
done
exit "$status"
