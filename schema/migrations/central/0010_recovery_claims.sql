-- A device's note of what it pushes back after a restore comes before the push, and names the
-- version it held (docs/PROTOCOL.md, "Centre identity"). lost_version: that version, kept only when
-- it is one the restored centre lost (beyond epoch_seq, in an epoch after the first); NULL otherwise
-- (and for notes of older clients). Such a row lets the device's first change of that record merge
-- into what the centre holds from the restore point on (a create of an id the centre holds becomes
-- an update). used_seq: the version that change was given, once it has been; a row serves once.
ALTER TABLE recoveries ADD COLUMN lost_version INTEGER;
ALTER TABLE recoveries ADD COLUMN used_seq INTEGER;
CREATE INDEX recoveries_by_device ON recoveries(device, epoch);
-- The device's values that lost a last-writer-wins comparison, as the first answer named them
-- ("field,field"), so that a replay names them again. NULL: none.
ALTER TABLE change_outcomes ADD COLUMN lost TEXT;
