-- As schema/migrations/central/0005_change_outcomes.sql.
CREATE TABLE change_outcomes (
  device_id BIGINT NOT NULL,
  change_id TEXT COLLATE "C" NOT NULL,
  digest    TEXT COLLATE "C",
  status    TEXT COLLATE "C" NOT NULL CHECK (status IN ('applied', 'merged', 'review')),
  version   BIGINT NOT NULL,
  review    TEXT COLLATE "C",
  PRIMARY KEY (device_id, change_id)
);
INSERT INTO change_outcomes(device_id, change_id, digest, status, version, review)
  SELECT d.id, h.change_id, NULL, 'applied', h.seq, NULL
  FROM history h JOIN devices d ON d.name = h.device WHERE h.change_id IS NOT NULL;
DROP INDEX history_by_change;
