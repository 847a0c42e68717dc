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
-- The scope indexes carry the digests: a device's digest then reads the index alone, where it read
-- each record's row through it (a seek per record). Pull reads them by (territory, version) as
-- before; a write that changes a record's version changed its entry anyway.
DROP INDEX cases_by_scope;
CREATE INDEX cases_by_scope ON cases(territory, version, digest_key, digest_values);
DROP INDEX followups_by_scope;
CREATE INDEX followups_by_scope ON followups(territory, version, digest_key, digest_values);
