-- As schema/migrations/central/0011_exit_destination.sql.
ALTER TABLE scope_exits ADD COLUMN to_territory TEXT COLLATE "C";
