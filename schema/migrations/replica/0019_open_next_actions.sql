-- The open next actions (`relais agenda`, docs/CLI.md "Agenda"): the follow-ups that carry a next
-- action (next_date) and that nothing has followed up yet — no later entry on their case (a later
-- date, or the same date written after: ids are UUIDv7, in the order they were made; an amendment
-- follows nothing up), and no entry correcting or withdrawing them (`amends`). The view says what
-- open is, once; the table keeps its lines, derived from the follow-ups alone and kept by the
-- triggers below whatever writes them (a local entry, a pull, an import, a recovery, a purge, an
-- erasure), never synced: two replicas holding the same follow-ups hold the same lines. The agenda
-- reads these few lines instead of probing the follow-ups of every next action of a quarter,
-- nearly all of them followed up (bench/RESULTS.md, "Register of visits and agenda").
-- (`later.date >= f.date` first: the probe reads the case's index from the entry's date on.)
CREATE VIEW open_followups AS
  SELECT f.rowid AS row, f.id, f.case_id, f.date, f.next_date FROM followups f
  WHERE f.next_date IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM followups later WHERE later.case_id = f.case_id AND later.date >= f.date
                    AND later.amends IS NULL AND (later.date > f.date OR later.id > f.id))
    AND NOT EXISTS (SELECT 1 FROM followups a WHERE a.amends = f.id);
-- Kept by case (what an entry closes is of its case; an amended entry is of its amendment's case),
-- read by next_date.
CREATE TABLE open_next_actions (
  case_id     TEXT NOT NULL,
  date        TEXT NOT NULL,  -- the entry's date
  followup_id TEXT NOT NULL,
  next_date   TEXT NOT NULL,
  PRIMARY KEY (case_id, date, followup_id)
) WITHOUT ROWID;
CREATE INDEX open_next_actions_by_next_date ON open_next_actions (next_date);

-- A new entry closes the earlier ones of its case (unless it amends one: it closes that one only),
-- and is open itself when nothing held follows it up (a pull may bring an entry after the one that
-- followed it up, or after its correction). A large pull page suspends this trigger and does the
-- same for all its rows at once (client/bulk_load.cc, which must say the same).
CREATE TRIGGER followups_next_insert AFTER INSERT ON followups BEGIN
  DELETE FROM open_next_actions
    WHERE new.amends IS NULL AND case_id = new.case_id AND (date < new.date OR (date = new.date AND followup_id < new.id));
  DELETE FROM open_next_actions WHERE new.amends IS NOT NULL AND case_id = new.case_id AND followup_id = new.amends;
  INSERT INTO open_next_actions (followup_id, case_id, date, next_date)
    SELECT id, case_id, date, next_date FROM open_followups WHERE new.next_date IS NOT NULL AND row = new.rowid;
END;

-- An entry removed (a removal, a purge, an erasure, a recovery): its case's lines are made again.
-- A case holds a few entries. No entry changes otherwise: follow-ups are append-only and every
-- field that says what is open (case_id, date, next_date, amends) is immutable (schema/model.cc),
-- so no update trigger weighs on the pull's upsert.
CREATE TRIGGER followups_next_delete AFTER DELETE ON followups BEGIN
  DELETE FROM open_next_actions WHERE case_id = old.case_id;
  INSERT INTO open_next_actions (followup_id, case_id, date, next_date)
    SELECT id, case_id, date, next_date FROM open_followups WHERE case_id = old.case_id;
END;

-- The lines of the follow-ups already held.
INSERT INTO open_next_actions (followup_id, case_id, date, next_date)
  SELECT id, case_id, date, next_date FROM open_followups;

-- The agenda no longer reads the follow-ups by their next action (0015's index): one index less to
-- write at every entry.
DROP INDEX followups_by_next_date;
