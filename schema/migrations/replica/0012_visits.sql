-- The register of visits (main courante): schema/model.cc, table `visits`; docs/SCHEMA.md. The
-- columns follow the declaration (tests/server/schema_columns_test.cc). Append-only: an entry is
-- corrected by a new one naming it in `amends`. case_id, orientation and amends are not SQL foreign
-- keys, as for follow-ups: a pull page may carry a visit before the case or contact it names.
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
  version         INTEGER NOT NULL DEFAULT 0,
  digest_key      INTEGER,
  digest_values   INTEGER,
  digest_version  INTEGER
);
-- `relais visit list`: a day or a period, in date and time order.
CREATE INDEX visits_by_date ON visits(date, time);
-- Whether an entry was amended (the list shows the amendment in its place): few entries are.
CREATE INDEX visits_by_amends ON visits(amends) WHERE amends IS NOT NULL;
