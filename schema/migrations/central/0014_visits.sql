-- The register of visits (main courante): schema/model.cc, table `visits`; docs/SCHEMA.md. The
-- data columns follow the declaration, then the centre's bookkeeping (server/store_layout.h): no
-- `stamps` (append-only: an entry is never edited, so no field has a last write to date) and no
-- copied `territory` (the entry's own field scopes it).
CREATE TABLE visits (
  id              TEXT PRIMARY KEY,
  territory       TEXT NOT NULL,
  reception_point TEXT,
  date            TEXT NOT NULL,
  time            TEXT,
  channel         TEXT NOT NULL,
  mode            TEXT NOT NULL,
  reasons         TEXT NOT NULL,
  case_id         TEXT,
  orientation     TEXT,
  status          TEXT,
  sector          TEXT,
  age_band        TEXT,
  commune         TEXT,
  postcode        TEXT,
  service_level   INTEGER,
  note            TEXT,
  amends          TEXT,
  version         INTEGER NOT NULL,
  last_device     TEXT,
  echo_device     INTEGER,
  history_seq     INTEGER,
  digest_key      INTEGER,
  digest_values   INTEGER
);
-- Pull and the divergence check's digest read a territory's entries in version order from the
-- index alone (as cases_by_scope, migration 0009).
CREATE INDEX visits_by_scope ON visits(territory, version, digest_key, digest_values);
CREATE INDEX visits_undigested ON visits(id) WHERE digest_values IS NULL;
