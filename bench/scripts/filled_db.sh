#!/usr/bin/env bash
# Writes a SQLite database that already holds a retention window's rows, for
# `DB_TEMPLATE=FILE bench/scripts/pinned_load.sh ...` (docs/benchmarks/FINDINGS.md, finding 28): ROWS chat
# events received over the last hour (random chat message ids as their second key, 1,000-byte
# bodies), each delivered to raw and forward. The schema is the relay's own: `kick-relay
# deliveries list` creates it. Needs the sqlite3 shell and a release build.
#   bench/scripts/filled_db.sh OUT [ROWS] [BIN]   e.g. bench/scripts/filled_db.sh /tmp/1m.db 1000000
set -euo pipefail
OUT=${1:?usage: filled_db.sh OUT [ROWS] [BIN]}; ROWS=${2:-1000000}; BIN=${3:-target/release/kick-relay}
rm -f "$OUT" "$OUT-wal" "$OUT-shm"
C=$(mktemp "${TMPDIR:-/tmp}/kick-relay-filled.XXXXXX.toml")
printf '[storage]\ndatabase_url = "sqlite://%s"\n' "$OUT" > "$C"
"$BIN" deliveries --config "$C" list >/dev/null
rm -f "$C"
START=$(( $(date +%s%3N) - 3600000 ))
sqlite3 "$OUT" <<SQL
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ROWS)
INSERT INTO inbox (message_id, dedup_key, received_at, event_type, version, subscription_id,
                   timestamp, signature, body)
SELECT '01H' || printf('%023d', x), 'chat:' || lower(hex(randomblob(16))),
       $START + x * 3600000 / $ROWS, 'chat.message.sent', '1', NULL, '2026-12-01T00:00:00Z',
       hex(randomblob(128)), randomblob(1000)
FROM c;
INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, finished_at)
SELECT message_id, o.name, event_type, 'delivered', received_at, received_at, received_at
FROM inbox, (SELECT 'raw' AS name UNION ALL SELECT 'forward') o ORDER BY inbox.rowid;
DELETE FROM outbox_count;
INSERT INTO outbox_count (output, status, n)
SELECT output, status, COUNT(*) FROM outbox GROUP BY output, status;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
ls -l "$OUT"
