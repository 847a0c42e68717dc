-- Consent on cases, participants of a tripartite meeting, and referrals to partners (issue 29,
-- "Referrals"; issue 27, "Consent"): schema/model.cc, docs/SCHEMA.md ("Consent", "referrals").
-- Columns follow the declaration (tests/server/schema_columns_test.cc).
--
-- New fields change every record's digest (a null field is a byte of it: sync/digest.cc), so the
-- kept digests of cases and follow-ups are dropped: they are digested from their values, as the
-- centre does after its migration 0016.
ALTER TABLE cases ADD COLUMN consent_processing TEXT;
ALTER TABLE cases ADD COLUMN consent_processing_on TEXT;
ALTER TABLE cases ADD COLUMN consent_processing_by TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing_on TEXT;
ALTER TABLE cases ADD COLUMN consent_sharing_by TEXT;
ALTER TABLE followups ADD COLUMN participants TEXT;
UPDATE cases SET digest_key = NULL, digest_values = NULL, digest_version = NULL WHERE digest_version IS NOT NULL;
UPDATE followups SET digest_key = NULL, digest_values = NULL, digest_version = NULL WHERE digest_version IS NOT NULL;
DELETE FROM central_digests WHERE id IN (SELECT id FROM cases UNION ALL SELECT id FROM followups);

-- case_id, organisation and contact are not SQL foreign keys, as for follow-ups: a pull page may
-- carry a referral before the case or contact it names. Local writes check that they exist.
CREATE TABLE referrals (
  id             TEXT PRIMARY KEY,
  case_id        TEXT NOT NULL,
  organisation   TEXT NOT NULL,
  contact        TEXT,
  service        TEXT NOT NULL,
  status         TEXT NOT NULL,
  reason         TEXT,
  feedback       TEXT,
  due_on         TEXT,
  note           TEXT,
  sent_on        TEXT NOT NULL,
  version        INTEGER NOT NULL DEFAULT 0,
  digest_key     INTEGER,
  digest_values  INTEGER,
  digest_version INTEGER
);
CREATE INDEX referrals_by_case ON referrals(case_id);
CREATE INDEX referrals_by_due ON referrals(due_on) WHERE due_on IS NOT NULL;
