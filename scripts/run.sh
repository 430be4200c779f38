#!/usr/bin/env bash
# Sets up what is missing, then serves Nidan on SQLite at http://127.0.0.1:3000 with live
# reload (`cargo leptos watch`). SMS codes go to the development outbox at /dev/sms.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$NIDAN_ROOT"
exec cargo leptos watch --cargo-locked "$@"
