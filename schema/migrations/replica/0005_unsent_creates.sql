-- A create waiting for its first push is its row alone (version 0, no outbox entry): the entry is
-- written when a push batch takes it (docs/SCHEMA.md, "The outbox"; client/pending_creates.h).
--
-- Entries written before, with fields '' (the row is the payload), go: those still waiting, not in
-- a batch, whose row is there at version 0 and which no later entry depends on. Kept as they were
-- (and sent as before): a create followed by an update of the same record, a follow-up's create
-- followed by an update of its case (the order of the outbox is the order the centre sees), one in a
-- batch or rejected, and one whose row is gone.
--
-- The clock must not go back below the stamps of the entries that go: the largest is kept in
-- sync_state, as a push does.
INSERT INTO sync_state(key, value)
  SELECT 'hlc_last', max(hlc) FROM outbox WHERE op = 'create' AND fields = '' HAVING max(hlc) IS NOT NULL
  ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE excluded.value > sync_state.value;

DELETE FROM outbox
 WHERE op = 'create' AND fields = '' AND state = 'pending' AND batch_key IS NULL
   AND NOT EXISTS (SELECT 1 FROM outbox AS other WHERE other.record_id = outbox.record_id AND other.seq <> outbox.seq)
   AND CASE tbl
         WHEN 'cases' THEN EXISTS (SELECT 1 FROM cases WHERE cases.id = outbox.record_id AND cases.version = 0)
         WHEN 'contacts' THEN EXISTS (SELECT 1 FROM contacts WHERE contacts.id = outbox.record_id AND contacts.version = 0)
         WHEN 'followups' THEN EXISTS (
           SELECT 1 FROM followups
            WHERE followups.id = outbox.record_id AND followups.version = 0
              AND NOT EXISTS (SELECT 1 FROM outbox AS later WHERE later.record_id = followups.case_id
                                                               AND later.op = 'update' AND later.seq > outbox.seq))
         ELSE 0
       END;
