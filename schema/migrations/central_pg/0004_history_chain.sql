-- As schema/migrations/central/0004_history_chain.sql.
ALTER TABLE history ADD COLUMN prev_seq BIGINT;
ALTER TABLE cases ADD COLUMN history_seq BIGINT;
ALTER TABLE followups ADD COLUMN history_seq BIGINT;
ALTER TABLE contacts ADD COLUMN history_seq BIGINT;
UPDATE history SET prev_seq = (SELECT max(h.seq) FROM history h
                               WHERE h.tbl = history.tbl AND h.record_id = history.record_id AND h.seq < history.seq);
UPDATE cases SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'cases' AND h.record_id = cases.id);
UPDATE followups SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'followups' AND h.record_id = followups.id);
UPDATE contacts SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'contacts' AND h.record_id = contacts.id);
DROP INDEX history_by_record;
