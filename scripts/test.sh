#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit and integration tests (SQLite, and
# PostgreSQL when one answers at 127.0.0.1:5432), then the Playwright suite in Debian's
# Chromium against a server built from this tree.
#
#   scripts/test.sh          everything
#   scripts/test.sh rust     unit and integration tests only
#   scripts/test.sh e2e      the end-to-end suite only
#   scripts/test.sh audit    known vulnerabilities in Cargo.lock (cargo audit, offline)
#   scripts/test.sh props N  the parsers' property tests with N cases each (default 10^6)
#   scripts/test.sh size     the release wasm, brotli-compressed as served, within its
#                            budget of 150,000 bytes (issue 11)
#   scripts/test.sh bench    scripts/bench.sh --smoke (the last step of "everything")
#   scripts/test.sh soak N   the integration suite N times in a row (default 20), on SQLite
#                            and PostgreSQL: shows that no test hangs or flakes
set -euo pipefail
export NIDAN_NEED_CHROMIUM=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$NIDAN_ROOT"
what="${1:-all}"

say() { printf '\033[1m[test]\033[0m %s\n' "$*"; }

postgres_answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

# Exports NIDAN_TEST_POSTGRES_URL when PostgreSQL answers (starting it if it is installed
# but down); without it the integration tests run on SQLite only, which CI refuses.
need_postgres() {
  if ! postgres_answers && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    sleep 2
  fi
  if postgres_answers; then
    export NIDAN_TEST_POSTGRES_URL="${NIDAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    say "integration tests run on SQLite and PostgreSQL"
  else
    unset NIDAN_TEST_POSTGRES_URL
    echo "SKIPPED: PostgreSQL (nothing answers at 127.0.0.1:5432); integration tests run on SQLite only"
    if [ "${CI:-}" = true ]; then
      echo "CI=true: PostgreSQL is required here"
      exit 1
    fi
  fi
}

# The advisory database: NIDAN_ADVISORY_DB (a RustSec snapshot .tgz, or an unpacked
# advisory-db folder), else the newest snapshot in the shared data folder beside the clone
# (../shared/data, see its README) or this workplace's /work/shared/data.
advisory_db() {
  if [ -n "${NIDAN_ADVISORY_DB:-}" ]; then echo "$NIDAN_ADVISORY_DB"; return; fi
  local dir
  for dir in "$NIDAN_ROOT/../shared/data" /work/shared/data; do
    # shellcheck disable=SC2012
    ls -1 "$dir"/rustsec-advisory-db-*.tgz 2>/dev/null | sort | tail -n 1 && return
  done
}

# Known vulnerabilities fail the run; the one advisory we accept is in .cargo/audit.toml,
# with its reason. Offline: the snapshot is unpacked and never fetched.
run_audit() {
  local db
  db="$(advisory_db)"
  if [ -z "$db" ]; then
    echo "SKIPPED: cargo audit (no advisory snapshot: set NIDAN_ADVISORY_DB)"
    [ "${CI:-}" = true ] && { echo "CI=true: the audit is required here"; return 1; }
    return 0
  fi
  if [ -f "$db" ]; then
    local unpacked
    unpacked="$(mktemp -d)"
    tar xzf "$db" -C "$unpacked"
    db="$unpacked/advisory-db"
  fi
  say "cargo audit against $db"
  cargo audit --db "$db" --no-fetch --file Cargo.lock
}

run_rust() {
  need_postgres
  cargo test --locked -p app -p server
}

# Every parser of outside input against N generated cases per property (the normal run
# tries 2,000). Each property runs on its own, so the output shows what each one took.
run_props() {
  local cases="${1:-1000000}"
  cargo test --release --locked -p app -p server --test parsers --no-run
  local names log
  log="$(mktemp)"
  names="$(cargo test --release --locked -p app -p server --test parsers -- --list 2>/dev/null | sed -n 's/: test$//p')"
  for name in $names; do
    local started=$SECONDS
    if ! PROPTEST_CASES="$cases" cargo test --release --locked -p app -p server --test parsers -- --exact "$name" >"$log" 2>&1; then
      cat "$log"
      say "$name FAILED (the case that fails, shrunk, is above)"
      return 1
    fi
    say "$name: $cases cases passed ($((SECONDS - started)) s)"
  done
}

# The integration suite again and again: a hang fails its run (each scenario has a
# watchdog), and every failed run's output is kept.
run_soak() {
  local runs="${1:-20}" passed=0 failed=0 logs
  need_postgres
  cargo test --locked -p server --test it --no-run
  logs="$(mktemp -d)"
  for i in $(seq 1 "$runs"); do
    local started=$SECONDS
    if cargo test --locked -p server --test it >"$logs/run-$i.log" 2>&1; then
      passed=$((passed + 1))
      say "soak run $i/$runs passed ($((SECONDS - started)) s)"
    else
      failed=$((failed + 1))
      say "soak run $i/$runs FAILED ($((SECONDS - started)) s); its failures:"
      grep -E "^(test .* FAILED|---- |thread .* panicked)" "$logs/run-$i.log" | head -n 20 || true
      say "whole output kept in $logs/run-$i.log"
    fi
  done
  echo "soak: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}

# Starts the built server on 127.0.0.1:$1 with a fresh database, extra settings in "$@"
# after the port; prints its pid. Its data directory (and log) is $E2E_DATA/<port>.
start_server() {
  local port="$1"; shift
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop what runs there, or set NIDAN_E2E_PORT" >&2
    return 1
  fi
  local data="$E2E_DATA/$port"
  mkdir -p "$data"
  # Every request of the suite comes from 127.0.0.1, so the per-IP limits are raised; the
  # resend countdown is shortened so that a test can wait it out.
  env LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site NIDAN_DATA_DIR="$data" \
    NIDAN_SMS_LIMIT_PER_IP_HOUR=10000 NIDAN_SMS_LIMIT_GLOBAL_HOUR=10000 NIDAN_SMS_RESEND_COOLDOWN_SECS=3 \
    NIDAN_SIGNUP_FREE_PER_IP=10000 NIDAN_LOGIN_FREE_FAILURES_PER_IP=10000 \
    RUST_LOG="${RUST_LOG:-warn}" "$@" "$CARGO_TARGET_DIR/debug/server" > "$data/server.log" 2>&1 &
  echo $!
}

run_e2e() {
  say "building the app (server and wasm)"
  cargo leptos build --cargo-locked
  local port="${NIDAN_E2E_PORT:-3100}"
  local short_port=$((port + 1))
  E2E_DATA="$(mktemp -d)"
  say "starting the servers on 127.0.0.1:$port and :$short_port (data in $E2E_DATA)"
  local pid short_pid
  pid="$(start_server "$port")"
  # The second server has short windows, so that the suite can see a password prompt
  # (TF-4) and a code expire (PH-6, LG-2) without waiting ten minutes.
  short_pid="$(start_server "$short_port" NIDAN_REAUTH_WINDOW_SECS=5 NIDAN_CODE_TTL_SECS=8)"
  trap "kill $pid $short_pid 2>/dev/null || true; wait $pid $short_pid 2>/dev/null || true" EXIT
  local status=0
  (cd end2end && NIDAN_E2E_URL="http://127.0.0.1:$port" NIDAN_E2E_SHORT_URL="http://127.0.0.1:$short_port" \
    npx playwright test) || status=$?
  if [ "$status" != 0 ]; then
    say "end-to-end tests failed; the servers' logs:"
    tail -n 50 "$E2E_DATA/$port/server.log" "$E2E_DATA/$short_port/server.log"
  fi
  kill "$pid" "$short_pid" 2>/dev/null || true
  wait "$pid" "$short_pid" 2>/dev/null || true
  trap - EXIT
  rm -rf "$E2E_DATA"
  return "$status"
}

# The client's size budget (issue 11: at most 150 KB of brotli on the wire for the wasm).
# A size, not a speed: the same tree with the same pinned tools (rustc, wasm-bindgen,
# wasm-opt) gives the same bytes. Built into a site folder of its own, so the debug site
# that the end-to-end suite and `cargo leptos watch` use is left alone.
WASM_BROTLI_BUDGET=150000
run_size() {
  say "the release wasm against its budget of $WASM_BROTLI_BUDGET bytes brotli"
  local site="target/site-size"
  rm -rf "$site"
  LEPTOS_SITE_ROOT="$site" cargo leptos build --release --precompress --cargo-locked --frontend-only
  local wasm bytes
  wasm="$(ls "$site"/pkg/*.wasm.br)"
  bytes="$(stat -c %s "$wasm")"
  echo "$(basename "$wasm"): $bytes bytes (budget $WASM_BROTLI_BUDGET, raw $(stat -c %s "${wasm%.br}"))"
  if [ "$bytes" -gt "$WASM_BROTLI_BUDGET" ]; then
    echo "the wasm is $((bytes - WASM_BROTLI_BUDGET)) bytes over its budget: keep server-only code and" \
      "new views out of the islands, or take something out (BENCHMARKS.md, docs/architecture.md §1.1)"
    return 1
  fi
}

# The benchmark for a second per figure on the debug build: keeps scripts/bench.sh working
# (it fails if the server cannot be set up or a response stalls), asserts no speed.
run_bench_smoke() {
  say "scripts/bench.sh --smoke"
  scripts/bench.sh --smoke
}

case "$what" in
  all) run_audit; run_rust; run_e2e; run_size; run_bench_smoke ;;
  bench) run_bench_smoke ;;
  size) run_size ;;
  audit) run_audit ;;
  rust) run_rust ;;
  e2e) run_e2e ;;
  soak) run_soak "${2:-20}" ;;
  props) run_props "${2:-1000000}" ;;
  *) echo "usage: scripts/test.sh [all|rust|e2e|audit|size|bench|props N|soak N]"; exit 2 ;;
esac
say "all requested tests passed"
