-- As schema/migrations/central/0005_pulled_to.sql.
ALTER TABLE devices ADD COLUMN pulled_to BIGINT NOT NULL DEFAULT 0;
CREATE INDEX scope_exits_by_record ON scope_exits(record_id, seq);
