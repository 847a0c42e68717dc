-- cases_by_territory(territory, status) goes. A device holds the cases of its own one to three
-- territories, so `territory = ?` picks a third of the table or more: reading the rows through the
-- index is no faster than reading the table (`case list --territory` on 100,000 cases spread over
-- six territories: 26–33 ms without it, 47–59 ms with it, the same plan's sort either way). Nothing
-- else reads it (a case leaving the scope is found by id). It cost 4 MB per 100,000 cases and an
-- index entry at a random place for every case written.
DROP INDEX IF EXISTS cases_by_territory;
