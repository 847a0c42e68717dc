-- The statistics (docs/STATISTICS.md): `stats` counts a period's records, so the tables it reads are
-- indexed by their date. The visits' index also holds what the first table a director asks reads
-- (visits by month and reception point, by reason, in a territory, amended or not): that table is
-- read from the index alone, in its GROUP BY order. Whether a visit stands (no entry amends it) is a
-- lookup of the few amending entries. Numbers 0016 to 0018 belong to other changes of the release.
CREATE INDEX visits_by_date ON visits(date, reception_point, reasons, territory, id);
CREATE INDEX visits_by_amends ON visits(amends) WHERE amends IS NOT NULL;
CREATE INDEX followups_by_date ON followups(date);
CREATE INDEX appointments_by_date ON appointments(date);
