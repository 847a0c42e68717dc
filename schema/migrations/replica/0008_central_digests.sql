-- The divergence check covers values (docs/PROTOCOL.md, "Divergence check"). A record the device
-- holds with local changes on top (pending, or rejected and kept) does not show the centre's
-- values; its digest as the centre holds it is kept here when a pull brings its values under those
-- changes, at the version pulled. A record without local changes is digested from its row.
CREATE TABLE central_digests (
  id      TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  digest  INTEGER NOT NULL
) WITHOUT ROWID;
