-- Rectification of follow-ups (docs/SCHEMA.md, "Rectification of follow-ups"): an entry may correct
-- or withdraw the one `amends` names (`amendment`: correction | retrait, with its `reason`). The
-- entries still showing are those no other entry amends, found by the index below.
ALTER TABLE followups ADD COLUMN amends TEXT;
ALTER TABLE followups ADD COLUMN amendment TEXT;
ALTER TABLE followups ADD COLUMN reason TEXT;
CREATE INDEX followups_by_amends ON followups(amends) WHERE amends IS NOT NULL;
-- The new null fields are bytes of every follow-up's digest (sync/digest.cc): the kept digests
-- are dropped, and the entries digested again from their rows, as the centre does (central 0020).
UPDATE followups SET digest_key = NULL, digest_values = NULL, digest_version = NULL WHERE digest_version IS NOT NULL;
DELETE FROM central_digests WHERE id IN (SELECT id FROM followups);
