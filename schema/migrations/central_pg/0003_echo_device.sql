-- As schema/migrations/central/0003_echo_device.sql.
ALTER TABLE cases ADD COLUMN echo_device BIGINT;
ALTER TABLE followups ADD COLUMN echo_device BIGINT;
ALTER TABLE contacts ADD COLUMN echo_device BIGINT;
