-- Records purged from this device (docs/PRIVACY.md, "Retention"): a case closed longer than the
-- network's device limit, with the records that cannot exist without it, leaves the replica at a
-- sync while the centre keeps it. What stays is what the divergence check needs to count them as
-- held: the id, the version and the two digests (docs/PROTOCOL.md, "Divergence check"); no value.
-- A removal or an erasure of the case takes its lines; a fresh copy of the scope empties the table.
CREATE TABLE purged_records (
  id            TEXT PRIMARY KEY,
  tbl           TEXT NOT NULL,
  case_id       TEXT NOT NULL,     -- the case purged (its own id for the case)
  version       INTEGER NOT NULL,
  digest_key    INTEGER NOT NULL,  -- its share of the digest's `sum`
  digest_values INTEGER NOT NULL   -- its record digest
);
CREATE INDEX purged_records_case ON purged_records (case_id);
-- The purge at the end of each sync looks for closed cases only.
CREATE INDEX cases_closed_on ON cases (closed_on) WHERE closed_on IS NOT NULL;
