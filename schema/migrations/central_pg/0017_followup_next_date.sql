-- As central/0017_followup_next_date.sql: a follow-up's next action date, and its digests computed
-- again as the store opens.
ALTER TABLE followups ADD COLUMN next_date TEXT COLLATE "C";
UPDATE followups SET digest_values = NULL;
