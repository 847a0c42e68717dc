-- The territories of the network, declared at the centre (`relais-central territory add`): a case
-- carries only a declared territory's code (docs/SERVER.md, "Territories"). The code is what cases
-- and devices hold and never changes; the label is what people read, and a rename changes only it.
CREATE TABLE territories (
  code       TEXT PRIMARY KEY,
  label      TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- The reception points of each territory (Point Accueil Emploi, guichet…), by name.
CREATE TABLE reception_points (
  territory TEXT NOT NULL REFERENCES territories(code),
  name      TEXT NOT NULL,
  PRIMARY KEY (territory, name)
);
-- Settings of the network, one row each: `transfers` = allow | review (a case moved out of a
-- device's territories is applied, or waits for central staff).
CREATE TABLE network_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- A store from before this step: every territory a device or a case already carries is declared,
-- labelled with its code, so that nothing that synced before is refused after the upgrade.
INSERT INTO territories(code, label, created_at)
SELECT territory, territory, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM (
  SELECT territory FROM device_territories UNION SELECT territory FROM cases WHERE territory IS NOT NULL);
