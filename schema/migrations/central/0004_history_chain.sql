-- A record's versions form a chain: each history row names the version before it (prev_seq) and
-- each record its last version in history (history_seq). A record's history is read by walking the
-- chain from its row; the index on history(tbl, record_id, seq) it replaces took one insert at a
-- random place per change, and every batch rewrote most of its pages (docs/SCHEMA.md).
ALTER TABLE history ADD COLUMN prev_seq INTEGER;
ALTER TABLE cases ADD COLUMN history_seq INTEGER;
ALTER TABLE followups ADD COLUMN history_seq INTEGER;
ALTER TABLE contacts ADD COLUMN history_seq INTEGER;
UPDATE history SET prev_seq = (SELECT max(h.seq) FROM history h
                               WHERE h.tbl = history.tbl AND h.record_id = history.record_id AND h.seq < history.seq);
UPDATE cases SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'cases' AND h.record_id = cases.id);
UPDATE followups SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'followups' AND h.record_id = followups.id);
UPDATE contacts SET history_seq = (SELECT max(h.seq) FROM history h WHERE h.tbl = 'contacts' AND h.record_id = contacts.id);
DROP INDEX history_by_record;
