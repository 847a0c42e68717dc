-- As schema/migrations/central/0002_merged_into.sql.
ALTER TABLE cases ADD COLUMN merged_into TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN identity_key TEXT COLLATE "C";
CREATE INDEX cases_by_identity ON cases(identity_key) WHERE identity_key IS NOT NULL;
ALTER TABLE conflicts ADD COLUMN settled_seq BIGINT;
CREATE INDEX conflicts_by_opened ON conflicts(opened_seq);
CREATE INDEX conflicts_by_settled ON conflicts(settled_seq) WHERE settled_seq IS NOT NULL;
