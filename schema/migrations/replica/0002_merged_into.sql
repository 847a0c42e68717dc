-- A case merged into another by central staff keeps its id as a redirect (docs/SCHEMA.md).
ALTER TABLE cases ADD COLUMN merged_into TEXT;
