-- Where a record went when it left a territory (docs/PROTOCOL.md, "GET /v1/pull", `removed`): the
-- territory a case moved to, and its follow-ups with it. NULL when it left otherwise (a follow-up
-- moved to the survivor of a merge, which the device may not see) and for exits older than it.
-- A pull names it only while it is a declared territory.
ALTER TABLE scope_exits ADD COLUMN to_territory TEXT;
