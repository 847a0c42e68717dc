-- Permanences, their session disruptions and appointments (docs/SCHEMA.md, "Permanences and
-- appointments"). Columns follow schema/model.cc (tests/server/schema_columns_test.cc checks them);
-- the replica's bookkeeping is the version and the digests as last pulled. permanence_id and case_id
-- are not SQL foreign keys, for the reason followups.case_id is not: a pull page may carry a record
-- before the one it names. Local writes check that it exists.
CREATE TABLE permanences (
  id              TEXT PRIMARY KEY,
  organisation    TEXT NOT NULL,
  contact         TEXT,
  reception_point TEXT NOT NULL,
  weekday         TEXT NOT NULL,
  start_time      TEXT NOT NULL,
  end_time        TEXT NOT NULL,
  every_weeks     TEXT NOT NULL,
  valid_from      TEXT NOT NULL,
  valid_until     TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  digest_key      INTEGER,
  digest_values   INTEGER,
  digest_version  INTEGER
);
CREATE INDEX permanences_by_point ON permanences(reception_point);

CREATE TABLE permanence_changes (
  id              TEXT PRIMARY KEY,
  permanence_id   TEXT NOT NULL,
  date            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  to_date         TEXT,
  to_start        TEXT,
  reason          TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  digest_key      INTEGER,
  digest_values   INTEGER,
  digest_version  INTEGER
);
CREATE INDEX permanence_changes_by_session ON permanence_changes(permanence_id, date);

CREATE TABLE appointments (
  id              TEXT PRIMARY KEY,
  case_id         TEXT NOT NULL,
  permanence_id   TEXT,
  date            TEXT NOT NULL,
  start_time      TEXT NOT NULL,
  place           TEXT,
  outcome         TEXT,
  call_back       TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  digest_key      INTEGER,
  digest_values   INTEGER,
  digest_version  INTEGER
);
CREATE INDEX appointments_by_date ON appointments(date, start_time);
CREATE INDEX appointments_by_session ON appointments(permanence_id, date);
