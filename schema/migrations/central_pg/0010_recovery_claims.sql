-- As schema/migrations/central/0010_recovery_claims.sql.
ALTER TABLE recoveries ADD COLUMN lost_version BIGINT;
ALTER TABLE recoveries ADD COLUMN used_seq BIGINT;
CREATE INDEX recoveries_by_device ON recoveries(device, epoch);
ALTER TABLE change_outcomes ADD COLUMN lost TEXT COLLATE "C";
