-- The centre's identity and history (docs/SERVER.md, "Restoring from a backup").
--
-- store_id: drawn once, when the store is made (this migration runs when a store is created, and
-- once on a store made before it); every copy of the store keeps it: a backup restored is the same
-- centre. epoch: 1 at first, one more each time the store is restored from a backup
-- (`relais-central restore`, `relais-central restored`, or a device's evidence: its cursor ahead of
-- the centre's sequence). epoch_seq: the sequence the store was at when the epoch began, the last
-- number the restored store vouches for; epoch_at: when (NULL for the first epoch).
ALTER TABLE meta ADD COLUMN store_id TEXT;
ALTER TABLE meta ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE meta ADD COLUMN epoch_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meta ADD COLUMN epoch_at TEXT;
UPDATE meta SET store_id = lower(hex(randomblob(16))) WHERE id = 1;

-- What devices pushed back after a restore: records or versions they held that the restored store
-- had lost (docs/PROTOCOL.md, "Centre identity"), one row per record, for central staff
-- (`relais-central recovered`).
CREATE TABLE recoveries (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  device    TEXT NOT NULL,
  epoch     INTEGER NOT NULL,
  tbl       TEXT NOT NULL,
  record_id TEXT NOT NULL,
  op        TEXT NOT NULL CHECK (op IN ('create', 'update'))
);
