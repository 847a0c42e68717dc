-- Every text is stored in Unicode NFC (docs/PROTOCOL.md, "Normalisation"), but rows written before
-- the entry points normalised may hold decomposed (NFD) text. The store rewrites them once as it
-- opens (RewriteTextsToNfc, server/sql_store.h): records' text fields, history snapshots and lost
-- values, conflicts' values. 0 until that rewrite has run to its end; a store created afresh runs
-- it once over empty tables. docs/SCHEMA.md, "Texts in NFC".
ALTER TABLE meta ADD COLUMN texts_nfc INTEGER NOT NULL DEFAULT 0;
