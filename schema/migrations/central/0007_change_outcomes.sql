-- Change ids are the device's (docs/PROTOCOL.md, "Change ids"): the answer each change was given is
-- kept under its device and id, with the digest of its content, so that a replay gets its first
-- answer again (status and review fields included) and an id reused for another change is refused.
-- Rejected changes keep no outcome: sent again, they are judged again.
CREATE TABLE change_outcomes (
  device_id INTEGER NOT NULL,
  change_id TEXT NOT NULL,
  digest    TEXT,            -- sync::ChangeDigest of the change; NULL for outcomes kept before digests
  status    TEXT NOT NULL CHECK (status IN ('applied', 'merged', 'review')),
  version   INTEGER NOT NULL,
  review    TEXT,            -- the fields held for review, comma-separated
  PRIMARY KEY (device_id, change_id)
) WITHOUT ROWID;
-- The changes taken before: known by their id only, answered as applied at their version.
INSERT INTO change_outcomes(device_id, change_id, digest, status, version, review)
  SELECT d.id, h.change_id, NULL, 'applied', h.seq, NULL
  FROM history h JOIN devices d ON d.name = h.device WHERE h.change_id IS NOT NULL;
-- Two devices may use one change id: history no longer holds it once.
DROP INDEX history_by_change;
