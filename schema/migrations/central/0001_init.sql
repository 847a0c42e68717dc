-- The central store (embedded SQLite flavour). Synced tables carry the same data columns as the
-- replica (schema/model.cc, checked by a test) plus what the authority needs. docs/SCHEMA.md.

-- One row. last_seq is the global sequence: every accepted change takes the next number, and a
-- record's version is the sequence of its last change.
CREATE TABLE meta (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL
);
INSERT INTO meta(id, last_seq) VALUES (1, 0);

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
  version         INTEGER NOT NULL,
  stamps          TEXT NOT NULL DEFAULT '{}',  -- JSON {"field": "hlc"}: the stamp of each field's last write
  last_device     TEXT                          -- device that wrote the last change
);
CREATE INDEX cases_by_scope ON cases(territory, version);
CREATE INDEX cases_by_version ON cases(version);

CREATE TABLE followups (
  id        TEXT PRIMARY KEY,
  case_id   TEXT NOT NULL,
  kind      TEXT NOT NULL,
  date      TEXT NOT NULL,
  text      TEXT NOT NULL,
  author    TEXT,
  version   INTEGER NOT NULL,
  territory TEXT,  -- copy of the case's territory, so that pull can scope without a join
  last_device TEXT
);
CREATE INDEX followups_by_scope ON followups(territory, version);
CREATE INDEX followups_by_case ON followups(case_id);

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
  version      INTEGER NOT NULL,
  stamps       TEXT NOT NULL DEFAULT '{}',
  last_device  TEXT
);
CREATE INDEX contacts_by_version ON contacts(version);

-- Every version of every record: the full record after each accepted change, who wrote it, when,
-- and the values that lost a merge (so nothing is ever silently lost).
CREATE TABLE history (
  seq       INTEGER PRIMARY KEY,
  tbl       TEXT NOT NULL,
  record_id TEXT NOT NULL,
  device    TEXT NOT NULL,
  hlc       TEXT NOT NULL,
  change_id TEXT,
  at        TEXT NOT NULL,      -- server time, ISO 8601 UTC
  snapshot  TEXT NOT NULL,      -- JSON object of the record after the change
  lost      TEXT                -- JSON {"field": {"value": v, "device": d, "hlc": h}} of values that lost
);
CREATE INDEX history_by_record ON history(tbl, record_id, seq);
CREATE UNIQUE INDEX history_by_change ON history(change_id) WHERE change_id IS NOT NULL;

-- A record that left a territory (its case moved): devices of that territory remove it.
CREATE TABLE scope_exits (
  seq       INTEGER PRIMARY KEY,
  tbl       TEXT NOT NULL,
  record_id TEXT NOT NULL,
  territory TEXT NOT NULL       -- the territory it left
);
CREATE INDEX scope_exits_by_territory ON scope_exits(territory, seq);

CREATE TABLE devices (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL DEFAULT 'device' CHECK (role IN ('device', 'staff')),
  token_hash  TEXT NOT NULL UNIQUE,   -- SHA-256 of the token; the token itself is never stored
  created_at  TEXT NOT NULL,
  revoked_at  TEXT,
  last_seen_at TEXT
);
CREATE TABLE device_territories (
  device_id INTEGER NOT NULL REFERENCES devices(id),
  territory TEXT NOT NULL,
  PRIMARY KEY (device_id, territory)
);

-- Idempotency: the answer given to each push batch, replayed when the same key comes again.
CREATE TABLE push_batches (
  device_id    INTEGER NOT NULL REFERENCES devices(id),
  batch_key    TEXT NOT NULL,
  request_hash TEXT NOT NULL,   -- SHA-256 of the decoded request: a reused key with other content is refused
  response     TEXT NOT NULL,   -- the JSON answer, verbatim
  created_at   TEXT NOT NULL,
  PRIMARY KEY (device_id, batch_key)
);

-- Values that could not be settled by a rule: central staff decide.
CREATE TABLE conflicts (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('field', 'duplicate')),
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'settled')),
  tbl           TEXT NOT NULL,
  record_id     TEXT NOT NULL,
  field         TEXT,             -- for kind = field
  other_id      TEXT,             -- for kind = duplicate: the probable twin
  territory     TEXT,
  base_value    TEXT,
  server_value  TEXT,
  server_device TEXT,
  server_hlc    TEXT,
  device_value  TEXT,
  device        TEXT,
  device_hlc    TEXT,
  change_id     TEXT,
  opened_seq    INTEGER NOT NULL,
  opened_at     TEXT NOT NULL,
  settled_at    TEXT,
  settled_by    TEXT,
  settled_value TEXT,
  settlement    TEXT              -- server | device | value | merged | dismissed
);
CREATE INDEX conflicts_by_status ON conflicts(status, territory);
CREATE INDEX conflicts_by_record ON conflicts(tbl, record_id);
