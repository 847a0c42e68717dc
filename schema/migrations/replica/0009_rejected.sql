-- Changes the centre refused, as people act on them (`relais rejected`, docs/CLI.md): the centre's
-- machine-readable code beside its reason, and the case the change concerns (its id and the
-- person's names as this replica knew them when the refusal came: the case may leave the replica
-- since, when it left the device's territories).
ALTER TABLE outbox ADD COLUMN reject_code TEXT;
ALTER TABLE outbox ADD COLUMN reject_case_id TEXT;
ALTER TABLE outbox ADD COLUMN reject_case_name TEXT;
-- A refused change a person chose to give up (`relais rejected discard`), kept with why and when:
-- nothing written on this device is ever silently lost. `relais rejected export` writes them out.
CREATE TABLE discarded_changes (
  change_id      TEXT PRIMARY KEY,
  tbl            TEXT NOT NULL,
  record_id      TEXT NOT NULL,
  op             TEXT NOT NULL,
  fields         TEXT NOT NULL,
  base_version   INTEGER NOT NULL,
  hlc            TEXT NOT NULL,
  reject_reason  TEXT,
  reject_code    TEXT,
  case_id        TEXT,
  case_name      TEXT,
  discard_reason TEXT NOT NULL,
  discarded_at   TEXT NOT NULL
);
