-- The outbox without an index on change_id, and with outbox_by_record on the record id alone.
--
-- change_id is a UUIDv7 made with the entry, unique by construction. Its UNIQUE index cost a fifth
-- of an import (every entry inserted at a random place in a second b-tree) and 5 MB per 100,000
-- entries. The centre's answer names the changes of one batch, so they are found through
-- outbox_by_batch. Record ids are UUIDs, unique across tables: the table name would only lengthen
-- every entry of outbox_by_record.
--
-- SQLite cannot drop a column constraint: the table is rebuilt, its entries and its AUTOINCREMENT
-- counter kept (a sequence number is never reused, even for entries already acknowledged).
CREATE TABLE outbox_lean (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  change_id     TEXT NOT NULL,
  tbl           TEXT NOT NULL,
  record_id     TEXT NOT NULL,
  op            TEXT NOT NULL CHECK (op IN ('create', 'update')),
  fields        TEXT NOT NULL,
  base_version  INTEGER NOT NULL,
  hlc           TEXT NOT NULL,
  batch_key     TEXT,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
  reject_reason TEXT
);
INSERT INTO outbox_lean SELECT seq, change_id, tbl, record_id, op, fields, base_version, hlc, batch_key, state,
                               reject_reason FROM outbox ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'outbox_lean';
INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox_lean', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_lean RENAME TO outbox;
CREATE INDEX outbox_by_record ON outbox(record_id);
CREATE INDEX outbox_by_batch ON outbox(batch_key) WHERE batch_key IS NOT NULL;
