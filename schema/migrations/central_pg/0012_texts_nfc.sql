-- As schema/migrations/central/0012_texts_nfc.sql.
ALTER TABLE meta ADD COLUMN texts_nfc BIGINT NOT NULL DEFAULT 0;
