-- Conflict notices pulled from the centre (docs/PROTOCOL.md, "Conflict notices"): what central staff
-- must settle about this replica's records, and how they settled it. A notice is replaced by its
-- later state (open, then settled); it leaves with its case when the case leaves the device's scope.
CREATE TABLE conflicts (
  id INTEGER PRIMARY KEY,        -- the centre's conflict id
  kind TEXT NOT NULL,            -- 'field' or 'duplicate'
  status TEXT NOT NULL,          -- 'open' or 'settled'
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT,                    -- kind 'field'
  other_id TEXT,                 -- kind 'duplicate': the existing case the record resembles
  base_value TEXT,
  server_value TEXT,
  device_value TEXT,
  device TEXT,                   -- the device whose value was held for review
  server_device TEXT,            -- the device that wrote the server's value
  settled_value TEXT,
  settlement TEXT,               -- 'server', 'device', 'value', 'merged', 'dismissed'
  seq INTEGER NOT NULL           -- the centre's sequence at which it was opened or settled
);
CREATE INDEX conflicts_by_record ON conflicts (record_id, status);
CREATE INDEX conflicts_by_other ON conflicts (other_id) WHERE other_id IS NOT NULL;
