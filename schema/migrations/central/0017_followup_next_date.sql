-- A follow-up may carry the date of its next action (schema/model.cc, followups.next_date;
-- docs/SCHEMA.md). The record digests cover every declared field, the new null one too: the
-- follow-ups' digests are computed again as the store opens (FillRecordDigests, server/sql_store.h).
ALTER TABLE followups ADD COLUMN next_date TEXT;
UPDATE followups SET digest_values = NULL;
