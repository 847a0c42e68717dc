-- The divergence check's digests are kept on write (docs/PROTOCOL.md, "Divergence check"): each
-- record's RecordKey (its part of `sum`) and RecordDigest (its part of `values`), as signed 64-bit
-- integers, so that a device's digest is an aggregate over its scope instead of a hash of every
-- value. NULL: not known yet (a record of a store older than these columns, which the store fills
-- when it opens, or a follow-up just moved with its case); the digest hashes such a record's values
-- as it reads them. The partial indexes find them without a scan.
ALTER TABLE cases ADD COLUMN digest_key INTEGER;
ALTER TABLE cases ADD COLUMN digest_values INTEGER;
ALTER TABLE followups ADD COLUMN digest_key INTEGER;
ALTER TABLE followups ADD COLUMN digest_values INTEGER;
ALTER TABLE contacts ADD COLUMN digest_key INTEGER;
ALTER TABLE contacts ADD COLUMN digest_values INTEGER;
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
