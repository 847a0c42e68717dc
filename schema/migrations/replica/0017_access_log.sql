-- The access log of this device (docs/PRIVACY.md, "Access log"): each read of one person's case
-- (case show, followup list, referral list --case, an export that includes it) and each search, as
-- its result count, never its text. Entries are only added here; they leave once the centre holds
-- them (POST /v1/access-log, at a sync), and an entry sent twice is kept there once (its id).
CREATE TABLE access_log (
  seq     INTEGER PRIMARY KEY,
  id      TEXT NOT NULL UNIQUE,  -- a UUID
  at      TEXT NOT NULL,         -- ISO 8601 UTC
  reader  TEXT NOT NULL,         -- the system login of who read
  action  TEXT NOT NULL,         -- consultation | suivis | orientations | export | recherche
  case_id TEXT,                  -- null for a search
  results INTEGER                -- a search's result count
);
