-- The device's replica: synced tables (columns follow schema/model.cc, checked by a test), the
-- outbox of changes not yet accepted by the centre, and the sync state. docs/SCHEMA.md.

CREATE TABLE cases (
  id              TEXT PRIMARY KEY,
  last_name       TEXT NOT NULL,
  first_name      TEXT NOT NULL,
  birth_date      TEXT,
  postcode        TEXT,
  commune         TEXT,
  phone           TEXT,
  email           TEXT,
  status          TEXT,
  sector          TEXT,
  service_level   INTEGER,
  reception_point TEXT,
  territory       TEXT,
  referent        TEXT,
  opened_on       TEXT NOT NULL,
  closed_on       TEXT,
  close_reason    TEXT,
  notes           TEXT,
  version         INTEGER NOT NULL DEFAULT 0  -- server sequence of the last change applied here; 0 = never synced
);
CREATE INDEX cases_by_territory ON cases(territory, status);

-- Names, places and contact details, case- and accent-insensitive (briancon finds Briançon).
CREATE VIRTUAL TABLE cases_fts USING fts5(
  last_name, first_name, commune, postcode, phone, email,
  content='cases', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
  INSERT INTO cases_fts(rowid, last_name, first_name, commune, postcode, phone, email)
  VALUES (new.rowid, new.last_name, new.first_name, new.commune, new.postcode, new.phone, new.email);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, last_name, first_name, commune, postcode, phone, email)
  VALUES ('delete', old.rowid, old.last_name, old.first_name, old.commune, old.postcode, old.phone, old.email);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF last_name, first_name, commune, postcode, phone, email ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, last_name, first_name, commune, postcode, phone, email)
  VALUES ('delete', old.rowid, old.last_name, old.first_name, old.commune, old.postcode, old.phone, old.email);
  INSERT INTO cases_fts(rowid, last_name, first_name, commune, postcode, phone, email)
  VALUES (new.rowid, new.last_name, new.first_name, new.commune, new.postcode, new.phone, new.email);
END;

-- Append-only. case_id is deliberately not a SQL foreign key: a pull page may carry a follow-up
-- before its case (pages are in version order and a case edited after its follow-ups has a later
-- version). Local writes check that the case exists.
CREATE TABLE followups (
  id      TEXT PRIMARY KEY,
  case_id TEXT NOT NULL,
  kind    TEXT NOT NULL,
  date    TEXT NOT NULL,
  text    TEXT NOT NULL,
  author  TEXT,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX followups_by_case ON followups(case_id, date);

CREATE TABLE contacts (
  id           TEXT PRIMARY KEY,
  organisation TEXT NOT NULL,
  kind         TEXT,
  last_name    TEXT,
  first_name   TEXT,
  role         TEXT,
  phone        TEXT,
  email        TEXT,
  commune      TEXT,
  version      INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE contacts_fts USING fts5(
  organisation, kind, last_name, first_name, role, commune, email,
  content='contacts', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
  INSERT INTO contacts_fts(rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES (new.rowid, new.organisation, new.kind, new.last_name, new.first_name, new.role, new.commune, new.email);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES ('delete', old.rowid, old.organisation, old.kind, old.last_name, old.first_name, old.role, old.commune, old.email);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES ('delete', old.rowid, old.organisation, old.kind, old.last_name, old.first_name, old.role, old.commune, old.email);
  INSERT INTO contacts_fts(rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES (new.rowid, new.organisation, new.kind, new.last_name, new.first_name, new.role, new.commune, new.email);
END;

-- Every local write appends here in the same transaction as the row change (docs/SCHEMA.md,
-- "The outbox"). `fields` is JSON: for a create {"field": value, ...} (absent = null); for an
-- update {"field": [new, base], ...}. A create written with '' takes its values from the row when
-- it is put in a batch (sync/outbox.h, kFieldsFromRow). Once `batch_key` is set the entry belongs to a push batch
-- and is never modified again, so a retried batch is byte-for-byte the same request.
CREATE TABLE outbox (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  change_id     TEXT NOT NULL UNIQUE,
  tbl           TEXT NOT NULL,
  record_id     TEXT NOT NULL,
  op            TEXT NOT NULL CHECK (op IN ('create', 'update')),
  fields        TEXT NOT NULL,
  base_version  INTEGER NOT NULL,
  hlc           TEXT NOT NULL,
  batch_key     TEXT,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
  reject_reason TEXT
);
CREATE INDEX outbox_by_record ON outbox(tbl, record_id);
CREATE INDEX outbox_by_batch ON outbox(batch_key) WHERE batch_key IS NOT NULL;

-- Small facts about this replica: its node id for the clock, the centre it is bound to, the pull
-- cursor, the last successful sync. One row per key.
CREATE TABLE sync_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
