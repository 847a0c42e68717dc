-- Rectification of follow-ups (docs/SCHEMA.md, "Rectification of follow-ups"): an entry may correct
-- or withdraw the one `amends` names (`amendment`: correction | retrait, with its `reason`). The
-- entries still showing are those no other entry amends, found by the index below.
ALTER TABLE followups ADD COLUMN amends TEXT;
ALTER TABLE followups ADD COLUMN amendment TEXT;
ALTER TABLE followups ADD COLUMN reason TEXT;
CREATE INDEX followups_by_amends ON followups(amends) WHERE amends IS NOT NULL;
