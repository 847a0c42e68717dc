-- Every text is stored in Unicode NFC (docs/PROTOCOL.md, "Normalisation"), but rows written before
-- the entry points normalised may hold decomposed (NFD) text, which escapes duplicate detection and
-- search folding. Rewritten here, as the centre rewrites its own (docs/SCHEMA.md, "Texts in NFC"):
-- same values, same versions, so the divergence check agrees without any traffic. relais_nfc() is
-- the C++ normalisation (base/text.h ToNfcInPlace), registered on every connection
-- (sqlite::Db::Open). A rewritten record's kept digests are dropped (digest_version,
-- central_digests): it is digested from its values, now those the centre holds. The search index
-- follows through the cases_fts and contacts_fts update triggers. Pending and refused changes
-- (outbox.fields), and conflicts, are rewritten too, so that their bases match the centre's values.
CREATE TEMP TABLE nfc_rewritten (id TEXT PRIMARY KEY);
INSERT INTO nfc_rewritten SELECT id FROM cases WHERE
  last_name IS NOT relais_nfc(last_name) OR
  first_name IS NOT relais_nfc(first_name) OR
  birth_date IS NOT relais_nfc(birth_date) OR
  postcode IS NOT relais_nfc(postcode) OR
  commune IS NOT relais_nfc(commune) OR
  phone IS NOT relais_nfc(phone) OR
  email IS NOT relais_nfc(email) OR
  status IS NOT relais_nfc(status) OR
  sector IS NOT relais_nfc(sector) OR
  reception_point IS NOT relais_nfc(reception_point) OR
  territory IS NOT relais_nfc(territory) OR
  referent IS NOT relais_nfc(referent) OR
  opened_on IS NOT relais_nfc(opened_on) OR
  closed_on IS NOT relais_nfc(closed_on) OR
  close_reason IS NOT relais_nfc(close_reason) OR
  notes IS NOT relais_nfc(notes) OR
  merged_into IS NOT relais_nfc(merged_into);
INSERT INTO nfc_rewritten SELECT id FROM followups WHERE
  case_id IS NOT relais_nfc(case_id) OR
  kind IS NOT relais_nfc(kind) OR
  date IS NOT relais_nfc(date) OR
  text IS NOT relais_nfc(text) OR
  author IS NOT relais_nfc(author);
INSERT INTO nfc_rewritten SELECT id FROM contacts WHERE
  organisation IS NOT relais_nfc(organisation) OR
  kind IS NOT relais_nfc(kind) OR
  last_name IS NOT relais_nfc(last_name) OR
  first_name IS NOT relais_nfc(first_name) OR
  role IS NOT relais_nfc(role) OR
  phone IS NOT relais_nfc(phone) OR
  email IS NOT relais_nfc(email) OR
  commune IS NOT relais_nfc(commune);
UPDATE cases SET
  last_name = relais_nfc(last_name),
  first_name = relais_nfc(first_name),
  birth_date = relais_nfc(birth_date),
  postcode = relais_nfc(postcode),
  commune = relais_nfc(commune),
  phone = relais_nfc(phone),
  email = relais_nfc(email),
  status = relais_nfc(status),
  sector = relais_nfc(sector),
  reception_point = relais_nfc(reception_point),
  territory = relais_nfc(territory),
  referent = relais_nfc(referent),
  opened_on = relais_nfc(opened_on),
  closed_on = relais_nfc(closed_on),
  close_reason = relais_nfc(close_reason),
  notes = relais_nfc(notes),
  merged_into = relais_nfc(merged_into),
  digest_key = NULL, digest_values = NULL, digest_version = NULL
WHERE id IN nfc_rewritten;
UPDATE followups SET
  case_id = relais_nfc(case_id),
  kind = relais_nfc(kind),
  date = relais_nfc(date),
  text = relais_nfc(text),
  author = relais_nfc(author),
  digest_key = NULL, digest_values = NULL, digest_version = NULL
WHERE id IN nfc_rewritten;
UPDATE contacts SET
  organisation = relais_nfc(organisation),
  kind = relais_nfc(kind),
  last_name = relais_nfc(last_name),
  first_name = relais_nfc(first_name),
  role = relais_nfc(role),
  phone = relais_nfc(phone),
  email = relais_nfc(email),
  commune = relais_nfc(commune),
  digest_key = NULL, digest_values = NULL, digest_version = NULL
WHERE id IN nfc_rewritten;
DELETE FROM central_digests WHERE id IN nfc_rewritten;
DROP TABLE nfc_rewritten;
UPDATE outbox SET fields = relais_nfc(fields) WHERE fields IS NOT relais_nfc(fields);
UPDATE conflicts SET
  base_value = relais_nfc(base_value),
  server_value = relais_nfc(server_value),
  device_value = relais_nfc(device_value),
  settled_value = relais_nfc(settled_value)
WHERE
  base_value IS NOT relais_nfc(base_value) OR
  server_value IS NOT relais_nfc(server_value) OR
  device_value IS NOT relais_nfc(device_value) OR
  settled_value IS NOT relais_nfc(settled_value);
