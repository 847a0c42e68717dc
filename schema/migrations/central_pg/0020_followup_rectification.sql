-- Rectification of follow-ups (docs/SCHEMA.md, "Rectification of follow-ups"): an entry may correct
-- or withdraw the one `amends` names (`amendment`: correction | retrait, with its `reason`). The
-- original stays, for staff; devices stop showing it.
ALTER TABLE followups ADD COLUMN amends TEXT;
ALTER TABLE followups ADD COLUMN amendment TEXT;
ALTER TABLE followups ADD COLUMN reason TEXT;
-- The new null fields are bytes of every follow-up's digest (sync/digest.cc): cleared here, filled
-- again as the store opens (FillRecordDigests), as replica migration 0016 drops the device's.
UPDATE followups SET digest_values = NULL WHERE digest_values IS NOT NULL;
-- Statistics count an entry unless a withdrawal names it (stats/model.cc): the few rectifications,
-- by the entry they name.
CREATE INDEX followups_by_amends ON followups(amends) WHERE amends IS NOT NULL;
