#!/usr/bin/env bash
# Writes a SQLite database that already holds a retention window's rows, for
# `DB_TEMPLATE=FILE bench/scripts/pinned_load.sh ...` (docs/benchmarks/FINDINGS.md, finding 28): ROWS chat
# events received over the last hour (random chat message ids as their second key, 1,000-byte
# bodies), each delivered to raw and forward (output numbers 1 and 2, both cursors at the log's
# end: no rows of their own). The schema is the relay's own: a short `kick-relay serve`
# creates it. Needs the sqlite3 shell and a release build.
#   bench/scripts/filled_db.sh OUT [ROWS] [BIN]   e.g. bench/scripts/filled_db.sh /tmp/1m.db 1000000
set -euo pipefail
OUT=${1:?usage: filled_db.sh OUT [ROWS] [BIN]}; ROWS=${2:-1000000}; BIN=${3:-target/release/kick-relay}
rm -f "$OUT" "$OUT-wal" "$OUT-shm"
rm -f "$OUT.id" "$OUT.lock"
C=$(mktemp "${TMPDIR:-/tmp}/kick-relay-filled.XXXXXX.toml")
printf '[server]\nlisten = "127.0.0.1:0"\n[admin]\nlisten = "127.0.0.2:0"\n[kick]\nrefresh_public_key = false\n[storage]\ndatabase_url = "sqlite://%s"\n' "$OUT" > "$C"
# A relay creates its database when it first serves (other commands open only an existing one).
"$BIN" serve --config "$C" >/dev/null 2>&1 &
P=$!
until [ -s "$OUT" ] && sqlite3 "$OUT" "SELECT 1 FROM meta WHERE key = 'database_id'" 2>/dev/null | grep -q 1; do
    kill -0 "$P" 2>/dev/null || { echo "kick-relay serve stopped; run it with $C to see why" >&2; exit 1; }
    sleep 0.1
done
kill "$P"; wait "$P" || true
rm -f "$C"
START=$(( $(date +%s%3N) - 3600000 ))
sqlite3 "$OUT" <<SQL
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ROWS)
INSERT INTO log (seq, message_id, dedup_key, received_at, event_type, version, subscription_id,
                 timestamp, signature, outputs, body)
SELECT x, '01H' || printf('%023d', x), 'chat:' || lower(hex(randomblob(16))),
       $START + x * 3600000 / $ROWS, 'chat.message.sent', '1', NULL, '2026-12-01T00:00:00Z',
       hex(randomblob(128)), ',1,2,', randomblob(1000)
FROM c;
INSERT INTO cursor (output, no, seq, last_named) VALUES ('raw', 1, $ROWS, $ROWS), ('forward', 2, $ROWS, $ROWS);
DELETE FROM delivery_count;
INSERT INTO delivery_count (output, status, n) VALUES ('raw', 'delivered', $ROWS), ('forward', 'delivered', $ROWS);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
ls -l "$OUT"
