-- contacts_fts_update fired on every update of a contact, whatever its columns: a sync that only
-- sets a contact's version (the centre's answer to its create, a pulled row whose text did not
-- change) rewrote its search entry, a delete and an insert in the FTS index per contact. It now
-- fires, as cases_fts_update does, only when an indexed column changes.
DROP TRIGGER IF EXISTS contacts_fts_update;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF organisation, kind, last_name, first_name, role, commune, email ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES ('delete', old.rowid, old.organisation, old.kind, old.last_name, old.first_name, old.role, old.commune, old.email);
  INSERT INTO contacts_fts(rowid, organisation, kind, last_name, first_name, role, commune, email)
  VALUES (new.rowid, new.organisation, new.kind, new.last_name, new.first_name, new.role, new.commune, new.email);
END;
