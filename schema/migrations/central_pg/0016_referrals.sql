-- Consent on cases, participants of a tripartite meeting, and referrals to partners (issue 29,
-- "Referrals"; issue 27, "Consent"): schema/model.cc, docs/SCHEMA.md ("Consent", "referrals").
-- Columns follow the declaration, then the centre's bookkeeping (server/store_layout.h); checked by
-- tests/server/schema_columns_test.cc.
--
-- New fields change every record's digest (a null field is a byte of it: sync/digest.cc): the
-- digests of cases and follow-ups are cleared, and the store fills them as it opens
-- (FillRecordDigests), as replica migration 0014 drops the device's.
ALTER TABLE cases ADD COLUMN consent_processing TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN consent_processing_on TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN consent_processing_by TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN consent_sharing TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN consent_sharing_on TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN consent_sharing_by TEXT COLLATE "C";
ALTER TABLE followups ADD COLUMN participants TEXT COLLATE "C";
UPDATE cases SET digest_values = NULL WHERE digest_values IS NOT NULL;
UPDATE followups SET digest_values = NULL WHERE digest_values IS NOT NULL;

-- Scoped by the case's territory, copied into `territory` as for follow-ups (moved with the case).
CREATE TABLE referrals (
  id            TEXT COLLATE "C" PRIMARY KEY,
  case_id       TEXT COLLATE "C" NOT NULL,
  organisation  TEXT COLLATE "C" NOT NULL,
  contact       TEXT COLLATE "C",
  service       TEXT COLLATE "C" NOT NULL,
  status        TEXT COLLATE "C" NOT NULL,
  reason        TEXT COLLATE "C",
  feedback      TEXT COLLATE "C",
  due_on        TEXT COLLATE "C",
  note          TEXT COLLATE "C",
  sent_on       TEXT COLLATE "C" NOT NULL,
  version       BIGINT NOT NULL,
  stamps        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  territory     TEXT COLLATE "C",
  last_device   TEXT COLLATE "C",
  echo_device   BIGINT,
  history_seq   BIGINT,
  digest_key    BIGINT,
  digest_values BIGINT
);
CREATE INDEX referrals_by_scope ON referrals(territory, version, digest_key, digest_values);
CREATE INDEX referrals_by_version ON referrals(version);
CREATE INDEX referrals_undigested ON referrals(id) WHERE digest_values IS NULL;
CREATE INDEX referrals_by_case ON referrals(case_id);
