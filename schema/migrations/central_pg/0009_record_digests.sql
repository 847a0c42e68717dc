-- As schema/migrations/central/0009_record_digests.sql.
ALTER TABLE cases ADD COLUMN digest_key BIGINT;
ALTER TABLE cases ADD COLUMN digest_values BIGINT;
ALTER TABLE followups ADD COLUMN digest_key BIGINT;
ALTER TABLE followups ADD COLUMN digest_values BIGINT;
ALTER TABLE contacts ADD COLUMN digest_key BIGINT;
ALTER TABLE contacts ADD COLUMN digest_values BIGINT;
CREATE INDEX cases_undigested ON cases(id) WHERE digest_values IS NULL;
CREATE INDEX followups_undigested ON followups(id) WHERE digest_values IS NULL;
CREATE INDEX contacts_undigested ON contacts(id) WHERE digest_values IS NULL;
