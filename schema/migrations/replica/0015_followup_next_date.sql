-- A follow-up may carry the date of its next action (schema/model.cc, followups.next_date;
-- docs/SCHEMA.md): `relais agenda` lists the ones due. The record digests of the divergence check
-- cover every declared field, the new null one too: the follow-ups' kept digests are dropped, and
-- they are digested again from their rows, as the centre digests its own again (central 0017).
ALTER TABLE followups ADD COLUMN next_date TEXT;
UPDATE followups SET digest_key = NULL, digest_values = NULL, digest_version = NULL;
DELETE FROM central_digests WHERE id IN (SELECT id FROM followups);
-- `relais agenda`: the follow-ups due within a window; few entries carry a date. It holds what
-- tells whether a later entry followed one up (case_id, date, id), so that the entries followed up,
-- most of them, are passed over without reading their rows.
CREATE INDEX followups_by_next_date ON followups(next_date, case_id, date, id) WHERE next_date IS NOT NULL;
