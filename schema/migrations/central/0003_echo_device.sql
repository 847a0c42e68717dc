-- The device whose change made a record exactly what it is now, so that its pulls can leave out
-- the record it already holds (docs/PROTOCOL.md, "Echo"); NULL when no device holds it so.
ALTER TABLE cases ADD COLUMN echo_device INTEGER;
ALTER TABLE followups ADD COLUMN echo_device INTEGER;
ALTER TABLE contacts ADD COLUMN echo_device INTEGER;
