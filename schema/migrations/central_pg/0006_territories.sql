-- As schema/migrations/central/0005_territories.sql.
CREATE TABLE territories (
  code       TEXT COLLATE "C" PRIMARY KEY,
  label      TEXT COLLATE "C" NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE reception_points (
  territory TEXT COLLATE "C" NOT NULL REFERENCES territories(code),
  name      TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (territory, name)
);
CREATE TABLE network_settings (
  name  TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);
INSERT INTO territories(code, label, created_at)
SELECT territory, territory, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM (
  SELECT territory FROM device_territories UNION SELECT territory FROM cases WHERE territory IS NOT NULL) AS t;
