-- The statistics (docs/STATISTICS.md): `stats` counts a period's records, so the tables it reads are
-- indexed by their date; whether a visit stands (no entry amends it) is a lookup of the few
-- amending entries. Numbers 0016 to 0018 belong to other changes of the same release.
CREATE INDEX visits_by_date ON visits(date);
CREATE INDEX visits_by_amends ON visits(amends) WHERE amends IS NOT NULL;
CREATE INDEX followups_by_date ON followups(date);
CREATE INDEX appointments_by_date ON appointments(date);
