-- Permanences, their session disruptions and appointments (docs/SCHEMA.md, "Permanences and
-- appointments"), scoped by their own `territory` field as cases are. Columns follow
-- schema/model.cc, then the centre's bookkeeping (server/store_layout.h, TableLayout); checked by
-- tests/server/schema_columns_test.cc. Indexes as for cases: scoped pulls and digests read
-- (territory, version), the store fills missing digests through *_undigested.
CREATE TABLE permanences (
  id              TEXT COLLATE "C" PRIMARY KEY,
  organisation    TEXT COLLATE "C" NOT NULL,
  contact         TEXT COLLATE "C",
  reception_point TEXT COLLATE "C" NOT NULL,
  weekday         TEXT COLLATE "C" NOT NULL,
  start_time      TEXT COLLATE "C" NOT NULL,
  end_time        TEXT COLLATE "C" NOT NULL,
  every_weeks     TEXT COLLATE "C" NOT NULL,
  valid_from      TEXT COLLATE "C" NOT NULL,
  valid_until     TEXT COLLATE "C",
  territory       TEXT COLLATE "C" NOT NULL,
  version         BIGINT NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT,
  echo_device     BIGINT,
  history_seq     BIGINT,
  digest_key      BIGINT,
  digest_values   BIGINT
);
CREATE INDEX permanences_by_scope ON permanences(territory, version, digest_key, digest_values);
CREATE INDEX permanences_by_version ON permanences(version);
CREATE INDEX permanences_undigested ON permanences(id) WHERE digest_values IS NULL;

CREATE TABLE permanence_changes (
  id              TEXT COLLATE "C" PRIMARY KEY,
  permanence_id   TEXT COLLATE "C" NOT NULL,
  date            TEXT COLLATE "C" NOT NULL,
  kind            TEXT COLLATE "C" NOT NULL,
  to_date         TEXT COLLATE "C",
  to_start        TEXT COLLATE "C",
  reason          TEXT COLLATE "C",
  territory       TEXT COLLATE "C" NOT NULL,
  version         BIGINT NOT NULL,
  last_device     TEXT,
  echo_device     BIGINT,
  history_seq     BIGINT,
  digest_key      BIGINT,
  digest_values   BIGINT
);
CREATE INDEX permanence_changes_by_scope ON permanence_changes(territory, version, digest_key, digest_values);
CREATE INDEX permanence_changes_by_version ON permanence_changes(version);
CREATE INDEX permanence_changes_undigested ON permanence_changes(id) WHERE digest_values IS NULL;
CREATE INDEX permanence_changes_by_session ON permanence_changes(permanence_id, date);

CREATE TABLE appointments (
  id              TEXT COLLATE "C" PRIMARY KEY,
  case_id         TEXT COLLATE "C" NOT NULL,
  permanence_id   TEXT COLLATE "C",
  date            TEXT COLLATE "C" NOT NULL,
  start_time      TEXT COLLATE "C" NOT NULL,
  place           TEXT COLLATE "C",
  outcome         TEXT COLLATE "C",
  call_back       TEXT COLLATE "C",
  territory       TEXT COLLATE "C" NOT NULL,
  version         BIGINT NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',
  last_device     TEXT,
  echo_device     BIGINT,
  history_seq     BIGINT,
  digest_key      BIGINT,
  digest_values   BIGINT
);
CREATE INDEX appointments_by_scope ON appointments(territory, version, digest_key, digest_values);
CREATE INDEX appointments_by_version ON appointments(version);
CREATE INDEX appointments_undigested ON appointments(id) WHERE digest_values IS NULL;
