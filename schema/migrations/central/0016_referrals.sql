-- Consent on cases, participants of a tripartite meeting, and referrals to partners (issue 29,
-- "Referrals"; issue 27, "Consent"): schema/model.cc, docs/SCHEMA.md ("Consent", "referrals").
-- Columns follow the declaration, then the centre's bookkeeping (server/store_layout.h); checked by
-- tests/server/schema_columns_test.cc.
--
-- New fields change every record's digest (a null field is a byte of it: sync/digest.cc): the
-- digests of cases and follow-ups are cleared, and the store fills them as it opens
-- (FillRecordDigests), as replica migration 0014 drops the device's.
ALTER TABLE cases ADD COLUMN consent_processing TEXT;
ALTER TABLE cases ADD COLUMN consent_processing_on TEXT;
ALTER TABLE cases ADD COLUMN consent_processing_by TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing_on TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing_by TEXT;
ALTER TABLE followups ADD COLUMN participants TEXT;
UPDATE cases SET digest_values = NULL WHERE digest_values IS NOT NULL;
UPDATE followups SET digest_values = NULL WHERE digest_values IS NOT NULL;

-- Scoped by the case's territory, copied into `territory` as for follow-ups (moved with the case).
CREATE TABLE referrals (
  id            TEXT PRIMARY KEY,
  case_id       TEXT NOT NULL,
  organisation  TEXT NOT NULL,
  contact       TEXT,
  service       TEXT NOT NULL,
  status        TEXT NOT NULL,
  reason        TEXT,
  feedback      TEXT,
  due_on        TEXT,
  note          TEXT,
  sent_on       TEXT NOT NULL,
  version       INTEGER NOT NULL,
  stamps        TEXT NOT NULL DEFAULT '{}',
  territory     TEXT,
  last_device   TEXT,
  echo_device   INTEGER,
  history_seq   INTEGER,
  digest_key    INTEGER,
  digest_values INTEGER
);
CREATE INDEX referrals_by_scope ON referrals(territory, version, digest_key, digest_values);
CREATE INDEX referrals_by_version ON referrals(version);
CREATE INDEX referrals_undigested ON referrals(id) WHERE digest_values IS NULL;
CREATE INDEX referrals_by_case ON referrals(case_id);
