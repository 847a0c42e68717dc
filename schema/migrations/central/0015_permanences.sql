-- Permanences, their session disruptions and appointments (docs/SCHEMA.md, "Permanences and
-- appointments"), scoped by their own `territory` field as cases are. Columns follow
-- schema/model.cc, then the centre's bookkeeping (server/store_layout.h, TableLayout); checked by
-- tests/server/schema_columns_test.cc. Indexes as for cases: scoped pulls and digests read
-- (territory, version), the store fills missing digests through *_undigested.
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
  version         INTEGER NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT,
  echo_device     INTEGER,
  history_seq     INTEGER,
  digest_key      INTEGER,
  digest_values   INTEGER
);
CREATE INDEX permanences_by_scope ON permanences(territory, version, digest_key, digest_values);
CREATE INDEX permanences_by_version ON permanences(version);
CREATE INDEX permanences_undigested ON permanences(id) WHERE digest_values IS NULL;

CREATE TABLE permanence_changes (
  id              TEXT PRIMARY KEY,
  permanence_id   TEXT NOT NULL,
  date            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  to_date         TEXT,
  to_start        TEXT,
  reason          TEXT,
  territory       TEXT NOT NULL,
  version         INTEGER NOT NULL,
  last_device     TEXT,
  echo_device     INTEGER,
  history_seq     INTEGER,
  digest_key      INTEGER,
  digest_values   INTEGER
);
CREATE INDEX permanence_changes_by_scope ON permanence_changes(territory, version, digest_key, digest_values);
CREATE INDEX permanence_changes_by_version ON permanence_changes(version);
CREATE INDEX permanence_changes_undigested ON permanence_changes(id) WHERE digest_values IS NULL;
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
  version         INTEGER NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT,
  echo_device     INTEGER,
  history_seq     INTEGER,
  digest_key      INTEGER,
  digest_values   INTEGER
);
CREATE INDEX appointments_by_scope ON appointments(territory, version, digest_key, digest_values);
CREATE INDEX appointments_by_version ON appointments(version);
CREATE INDEX appointments_undigested ON appointments(id) WHERE digest_values IS NULL;
