-- As schema/migrations/central/0013_device_wipe.sql.
ALTER TABLE devices ADD COLUMN wipe_ordered_at TEXT COLLATE "C";
ALTER TABLE devices ADD COLUMN wipe_delivered_at TEXT COLLATE "C";
ALTER TABLE devices ADD COLUMN pending_changes BIGINT;
ALTER TABLE devices ADD COLUMN pending_reported_at TEXT COLLATE "C";
