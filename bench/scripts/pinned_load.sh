#!/usr/bin/env bash
# Loads a release kick-relay by hand the way docs/benchmarks/FINDINGS.md's findings 20-23 did: the relay
# pinned to core 0, `relay-bench stand-in` (the outputs' receiver) and `relay-bench load` pinned
# to core 1. Prints the load's latency line, the relay's CPU ticks (1/100 s) over the load,
# bytes it wrote, its context switches, the deliveries each output made and its peak RSS.
#
# Usage (from the repository root, after `cargo xtask bench --quick` has built the binaries and
# pre-signed the sets in target/bench):
#   bench/scripts/pinned_load.sh [BIN] [OUTPUTS 0|1] [RATE|-] [SECONDS] [SET]
#   e.g. bench/scripts/pinned_load.sh target/release/kick-relay 1 8000 6
# OUTPUTS=1 relays to raw + forward; RATE "-" is a closed loop (CONC connections, default 64).
# KEEP_WAL=1 kills the relay with SIGKILL at the end and leaves its database and WAL in the
# work folder, for bench/scripts/wal_pages.py. DB_TEMPLATE=FILE: see below.
set -euo pipefail
BIN=${1:-target/release/kick-relay}; OUT=${2:-1}; RATE=${3:--}; SECS=${4:-6}
SET=${5:-target/bench/mixed-150000.jsonl}
W=$(mktemp -d "${TMPDIR:-/tmp}/kick-relay-pinned.XXXXXX")
# DB_TEMPLATE=FILE starts the relay on a copy of FILE (a database already holding a retention
# window's rows) instead of an empty one.
if [ -n "${DB_TEMPLATE:-}" ]; then cp "$DB_TEMPLATE" "$W/r.db"; sync; fi
taskset -c 1 target/release/relay-bench stand-in --listen 127.0.0.1:39111 >/dev/null 2>&1 &
SP=$!
cat > "$W/c.toml" <<EOT
[server]
listen = "127.0.0.1:39112"
timestamp_tolerance_secs = 0
[admin]
listen = "127.0.0.1:39113"
[kick]
public_key_file = "$PWD/target/bench/keys/public.pem"
refresh_public_key = false
[storage]
database_url = "sqlite://$W/r.db"
EOT
if [ "$OUT" = 1 ]; then cat >> "$W/c.toml" <<EOT
[[output]]
name = "raw"
type = "raw"
url = "http://127.0.0.1:39111/raw"
[[output]]
name = "forward"
type = "forward"
url = "http://127.0.0.1:39111/raw"
EOT
fi
taskset -c 0 "$BIN" serve --config "$W/c.toml" >"$W/log" 2>&1 &
RP=$!
sleep 1.5
switches() { cat /proc/"$RP"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
C0=$(switches)
T0=$(awk '{print $14 + $15}' /proc/"$RP"/stat)
RATE_ARGS=()
[ "$RATE" != - ] && RATE_ARGS=(--rate "$RATE")
taskset -c 1 target/release/relay-bench load --url http://127.0.0.1:39112/webhooks/kick \
    --set "$SET" --seconds "$SECS" --concurrency "${CONC:-64}" "${RATE_ARGS[@]}"
T1=$(awk '{print $14 + $15}' /proc/"$RP"/stat)
echo "relay CPU ticks during the load: $((T1 - T0)); context switches: $(( $(switches) - C0 ))"
grep -E '^(wchar|write_bytes)' /proc/"$RP"/io | tr '\n' ' '; echo
curl -s 127.0.0.1:39113/metrics | grep -E '^kick_relay_attempts_total\{' || true
grep VmHWM /proc/"$RP"/status
if [ -n "${KEEP_WAL:-}" ]; then
    kill -9 "$RP"; wait "$RP" 2>/dev/null || true
    echo "database and WAL left in $W"
else
    kill "$RP"; wait "$RP" 2>/dev/null || true
    rm -rf "$W"
fi
kill "$SP"
