-- Staff time (issue 30, "activity time by mission in ETP"; docs/STATISTICS.md, "Staff time"): the
-- minutes a visit or a follow-up entry took and who received the visit, and each counsellor's
-- declared working time. Columns follow schema/model.cc (tests/server/schema_columns_test.cc).
ALTER TABLE visits ADD COLUMN author TEXT;
ALTER TABLE visits ADD COLUMN minutes INTEGER;
ALTER TABLE followups ADD COLUMN minutes INTEGER;
-- The new null fields are bytes of every visit's and follow-up's digest (sync/digest.cc): the kept
-- digests are dropped, and the entries digested again from their rows, as the centre does (central 0022).
UPDATE visits SET digest_key = NULL, digest_values = NULL, digest_version = NULL WHERE digest_version IS NOT NULL;
UPDATE followups SET digest_key = NULL, digest_values = NULL, digest_version = NULL WHERE digest_version IS NOT NULL;
DELETE FROM central_digests WHERE id IN (SELECT id FROM visits UNION ALL SELECT id FROM followups);

-- A counsellor's declared working time over a period, as a share of full time (quotité).
CREATE TABLE working_times (
  id              TEXT PRIMARY KEY,
  counsellor      TEXT NOT NULL,
  percent         INTEGER NOT NULL,
  valid_from      TEXT NOT NULL,
  valid_until     TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  digest_key      INTEGER,
  digest_values   INTEGER,
  digest_version  INTEGER
);
