#!/usr/bin/env bash
# Installs the system libraries the backends link against and starts local database servers
# that are installed but not running. Safe to run repeatedly.
set -euo pipefail

packages=(pkg-config libpq-dev default-libmysqlclient-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi

# Start local servers that are installed but down (the tests themselves fail if unreachable).
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
if [ -x /usr/sbin/mariadbd ] && command -v mysqladmin >/dev/null \
   && ! mysqladmin -h 127.0.0.1 -u root status >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do
    mysqladmin -h 127.0.0.1 -u root status >/dev/null 2>&1 && break
    sleep 1
  done
fi
