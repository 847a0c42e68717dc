-- Staff time (issue 30, "activity time by mission in ETP"; docs/STATISTICS.md, "Staff time"): the
-- minutes a visit or a follow-up entry took and who received the visit, and each counsellor's
-- declared working time, scoped by its own `territory` as permanences are. Columns follow
-- schema/model.cc, then the centre's bookkeeping (server/store_layout.h); checked by
-- tests/server/schema_columns_test.cc.
ALTER TABLE visits ADD COLUMN author TEXT;
ALTER TABLE visits ADD COLUMN minutes INTEGER;
ALTER TABLE followups ADD COLUMN minutes INTEGER;
-- The new null fields are bytes of every digest (sync/digest.cc): cleared here, filled again as
-- the store opens (FillRecordDigests), as replica migration 0020 drops the device's.
UPDATE visits SET digest_values = NULL WHERE digest_values IS NOT NULL;
UPDATE followups SET digest_values = NULL WHERE digest_values IS NOT NULL;

CREATE TABLE working_times (
  id              TEXT PRIMARY KEY,
  counsellor      TEXT NOT NULL,
  percent         INTEGER NOT NULL,
  valid_from      TEXT NOT NULL,
  valid_until     TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT,
  echo_device     INTEGER,
  history_seq     INTEGER,
  digest_key      INTEGER,
  digest_values   INTEGER
);
CREATE INDEX working_times_by_scope ON working_times(territory, version, digest_key, digest_values);
CREATE INDEX working_times_by_version ON working_times(version);
CREATE INDEX working_times_undigested ON working_times(id) WHERE digest_values IS NULL;
