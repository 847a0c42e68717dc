-- A case merged into another by central staff keeps its id as a redirect (docs/SCHEMA.md).
ALTER TABLE cases ADD COLUMN merged_into TEXT;
-- Normalised identity (case- and accent-folded names and birth date) to detect probable duplicates.
ALTER TABLE cases ADD COLUMN identity_key TEXT;
CREATE INDEX cases_by_identity ON cases(identity_key) WHERE identity_key IS NOT NULL;
-- The sequence at which a conflict was settled, so that settlements flow to devices in pull order.
ALTER TABLE conflicts ADD COLUMN settled_seq INTEGER;
CREATE INDEX conflicts_by_opened ON conflicts(opened_seq);
CREATE INDEX conflicts_by_settled ON conflicts(settled_seq) WHERE settled_seq IS NOT NULL;
