-- Staff time (issue 30, "activity time by mission in ETP"; docs/STATISTICS.md, "Staff time"): the
-- minutes a visit or a follow-up entry took and who received the visit, and each counsellor's
-- declared working time, scoped by its own `territory` as permanences are. Columns follow
-- schema/model.cc, then the centre's bookkeeping (server/store_layout.h); checked by
-- tests/server/schema_columns_test.cc.
ALTER TABLE visits ADD COLUMN author TEXT COLLATE "C";
ALTER TABLE visits ADD COLUMN minutes BIGINT;
ALTER TABLE followups ADD COLUMN minutes BIGINT;
-- The new null fields are bytes of every digest (sync/digest.cc): cleared here, filled again as
-- the store opens (FillRecordDigests), as replica migration 0020 drops the device's.
UPDATE visits SET digest_values = NULL WHERE digest_values IS NOT NULL;
UPDATE followups SET digest_values = NULL WHERE digest_values IS NOT NULL;

CREATE TABLE working_times (
  id              TEXT COLLATE "C" PRIMARY KEY,
  counsellor      TEXT COLLATE "C" NOT NULL,
  percent         BIGINT NOT NULL,
  valid_from      TEXT COLLATE "C" NOT NULL,
  valid_until     TEXT COLLATE "C",
  territory       TEXT COLLATE "C" NOT NULL,
  version         BIGINT NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT COLLATE "C",
  echo_device     BIGINT,
  history_seq     BIGINT,
  digest_key      BIGINT,
  digest_values   BIGINT
);
CREATE INDEX working_times_by_scope ON working_times(territory, version, digest_key, digest_values);
CREATE INDEX working_times_by_version ON working_times(version);
CREATE INDEX working_times_undigested ON working_times(id) WHERE digest_values IS NULL;
