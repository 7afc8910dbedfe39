#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (SQLite, PostgreSQL, MySQL/MariaDB),
# compile-fail UI tests, CLI end-to-end tests, doc tests, and one pass of each benchmark.
#
# Installs what the build needs on a Debian machine (run as root) and starts the local
# database servers when they are installed but stopped. PostgreSQL and MySQL are reached at
# KYSERA_TEST_POSTGRES_URL / KYSERA_TEST_MYSQL_URL (defaults: the local servers); a server
# that cannot be reached fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== cargo test (doc tests)"
cargo test --workspace --doc --locked 2>&1 | tee -a "$log"
echo "== cargo test (workspace, all targets)"
cargo test --workspace --all-targets --locked 2>&1 | tee -a "$log"

# One closing line for the whole run: the sum over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
