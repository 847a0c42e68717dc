-- Erasure of a person at their request (RGPD art. 17; docs/PRIVACY.md, "Erasure"; docs/SERVER.md,
-- "Erasing a person"). `relais-central person erase` removes the case and the records linked to it
-- (follow-ups, visits, appointments) from the live tables, strips their identifying fields
-- (schema/model.h, Field::identifying) from every history version, deletes the conflicts about
-- them, and leaves devices a removal marked `erased` (scope_exits.erased) so that each replica that
-- holds them erases them too.

-- The receipt: who erased which case, when and why. No identity of the person: the case id only.
-- `source`: `staff` (the command or the staff API) or `ledger` (replayed at start from the erasure
-- ledger, after a backup older than the erasure was restored).
CREATE TABLE erasures (
  id        INTEGER PRIMARY KEY,
  case_id   TEXT NOT NULL UNIQUE,
  at        TEXT NOT NULL,   -- ISO 8601 UTC
  erased_by TEXT NOT NULL,   -- the staff member or staff token
  reason    TEXT NOT NULL,
  seq       INTEGER NOT NULL,  -- the sequence number of its first removal
  records   INTEGER NOT NULL,  -- records erased: the case and the records linked to it
  source    TEXT NOT NULL DEFAULT 'staff' CHECK (source IN ('staff', 'ledger'))
);

-- Every record erased, with the coded facts kept for statistics (the fields not declared
-- identifying, as JSON): a push that names one later is refused (`erased`), never stored.
CREATE TABLE erased_records (
  record_id TEXT PRIMARY KEY,
  tbl       TEXT NOT NULL,
  case_id   TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  facts     TEXT NOT NULL
);

-- A removal that is an erasure: devices erase the record rather than only drop it.
ALTER TABLE scope_exits ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;

-- The records linked to a case, found without a scan.
CREATE INDEX visits_by_case ON visits(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX appointments_by_case ON appointments(case_id);
CREATE INDEX cases_merged_into ON cases(merged_into) WHERE merged_into IS NOT NULL;
