-- As schema/migrations/central/0014_visits.sql.
CREATE TABLE visits (
  id              TEXT COLLATE "C" PRIMARY KEY,
  territory       TEXT COLLATE "C" NOT NULL,
  reception_point TEXT COLLATE "C",
  date            TEXT COLLATE "C" NOT NULL,
  time            TEXT COLLATE "C",
  channel         TEXT COLLATE "C" NOT NULL,
  mode            TEXT COLLATE "C" NOT NULL,
  reasons         TEXT COLLATE "C" NOT NULL,
  case_id         TEXT COLLATE "C",
  orientation     TEXT COLLATE "C",
  status          TEXT COLLATE "C",
  sector          TEXT COLLATE "C",
  age_band        TEXT COLLATE "C",
  commune         TEXT COLLATE "C",
  postcode        TEXT COLLATE "C",
  service_level   BIGINT,
  note            TEXT COLLATE "C",
  amends          TEXT COLLATE "C",
  version         BIGINT NOT NULL,
  last_device     TEXT COLLATE "C",
  echo_device     BIGINT,
  history_seq     BIGINT,
  digest_key      BIGINT,
  digest_values   BIGINT
);
CREATE INDEX visits_by_scope ON visits(territory, version, digest_key, digest_values);
CREATE INDEX visits_undigested ON visits(id) WHERE digest_values IS NULL;
