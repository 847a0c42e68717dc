-- The divergence check's digests of a record as the centre holds it, kept when a pull writes the
-- record (docs/PROTOCOL.md, "Divergence check"): its RecordKey and RecordDigest as signed 64-bit
-- integers, and the version they are of. They count only while digest_version equals the row's
-- version: a row whose version changed since (an accepted push) or that has none (a replica older
-- than these columns, a fresh copy) is digested from its values, as before.
ALTER TABLE cases ADD COLUMN digest_key INTEGER;
ALTER TABLE cases ADD COLUMN digest_values INTEGER;
ALTER TABLE cases ADD COLUMN digest_version INTEGER;
ALTER TABLE followups ADD COLUMN digest_key INTEGER;
ALTER TABLE followups ADD COLUMN digest_values INTEGER;
ALTER TABLE followups ADD COLUMN digest_version INTEGER;
ALTER TABLE contacts ADD COLUMN digest_key INTEGER;
ALTER TABLE contacts ADD COLUMN digest_values INTEGER;
ALTER TABLE contacts ADD COLUMN digest_version INTEGER;
-- A record pulled under local changes: the digest its row gives, each field changed here at its
-- base, as the pull left it; LocalDigest checks the row against it (NULL: not checked).
ALTER TABLE central_digests ADD COLUMN expected INTEGER;
