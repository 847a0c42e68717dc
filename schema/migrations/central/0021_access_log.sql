-- The access log (RGPD art. 15 and 32; docs/PRIVACY.md, "Access log"): each read of one person's
-- case on a device (sent with its syncs, POST /v1/access-log) or at the centre (staff history,
-- conflicts show, person export), and each search on a device as its result count. No identity:
-- the case by its id; never a search's text. Entries are only added: none is changed or removed,
-- not even by an erasure (the log proves who read what, and holds nothing of the person).
CREATE TABLE access_log (
  id          TEXT PRIMARY KEY,  -- a UUID: an entry a device sends again is kept once
  at          TEXT NOT NULL,     -- ISO 8601 UTC, when it was read
  device      TEXT NOT NULL,     -- the device that read, or 'centre'
  reader      TEXT NOT NULL,     -- the system login (device) or staff member (centre)
  action      TEXT NOT NULL,     -- server/access_log.h
  case_id     TEXT,              -- null for a search
  results     INTEGER,           -- a search's result count
  received_at TEXT NOT NULL      -- when the centre stored it
);
CREATE INDEX access_log_by_case ON access_log(case_id, at) WHERE case_id IS NOT NULL;
CREATE INDEX access_log_by_device ON access_log(device, at);
