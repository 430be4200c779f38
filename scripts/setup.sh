#!/usr/bin/env bash
# Installs what building and testing Nidan needs, skipping whatever is already at the right
# version. Sourced by scripts/run.sh and scripts/test.sh; safe to run on its own.
#
#   - the wasm32 target for rustc
#   - cargo-leptos 0.3.10 (0.3.11 needs a newer rustc than 1.95)
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock
#   - cargo-audit 0.22, for the audit of Cargo.lock against a RustSec snapshot
#   - end2end/ npm packages: Playwright and binaryen's wasm-opt (cargo-leptos would otherwise
#     try to download these tools, which fails without internet)
#   - Debian's Chromium and a Japanese font (fonts-noto-cjk), for the end-to-end tests and
#     their screenshots (only when asked: NIDAN_NEED_CHROMIUM=1)
set -euo pipefail

NIDAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$NIDAN_ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Build artifacts live outside the clone, so a fresh clone (CI's, a developer's second
# checkout) reuses them instead of spending minutes on a cold build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nidan/target}"
# leptos reads this at compile time; `cargo test` sets it like cargo-leptos does, so both
# share one build instead of rebuilding leptos each time.
export LEPTOS_OUTPUT_NAME=nidan

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $*"; return 1; fi
}

apt_install() {
  say "installing $* from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

command -v cargo >/dev/null || { say "Rust (cargo) is missing: install it with rustup first"; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools below build in a target folder of their own (`env -u CARGO_TARGET_DIR`), not in
# the project's: on a fresh machine they would otherwise take turns with the project's
# builds on one lock.
CARGO_LEPTOS_VERSION=0.3.10
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once)"
  env -u CARGO_TARGET_DIR cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$NIDAN_ROOT/Cargo.lock")"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked
fi

# The audit of Cargo.lock against the RustSec snapshot (scripts/test.sh audit).
CARGO_AUDIT_VERSION=0.22
if ! cargo audit --version 2>/dev/null | grep -q " $CARGO_AUDIT_VERSION\."; then
  say "installing cargo-audit $CARGO_AUDIT_VERSION (takes a while, once)"
  env -u CARGO_TARGET_DIR cargo install cargo-audit --version "~$CARGO_AUDIT_VERSION" --locked
fi

if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
if [ ! -x "$NIDAN_ROOT/end2end/node_modules/.bin/wasm-opt" ] \
  || [ "$NIDAN_ROOT/end2end/package-lock.json" -nt "$NIDAN_ROOT/end2end/node_modules/.package-lock.json" ]; then
  say "installing end2end npm packages"
  (cd "$NIDAN_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

if [ "${NIDAN_NEED_CHROMIUM:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# Without a Japanese font every screenshot the suite keeps shows empty boxes.
if [ "${NIDAN_NEED_CHROMIUM:-0}" = 1 ] && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt_install fonts-noto-cjk
fi
