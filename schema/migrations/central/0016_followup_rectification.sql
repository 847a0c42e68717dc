-- Rectification of follow-ups (docs/SCHEMA.md, "Rectification of follow-ups"): an entry may correct
-- or withdraw the one `amends` names (`amendment`: correction | retrait, with its `reason`). The
-- original stays, for staff; devices stop showing it.
ALTER TABLE followups ADD COLUMN amends TEXT;
ALTER TABLE followups ADD COLUMN amendment TEXT;
ALTER TABLE followups ADD COLUMN reason TEXT;
