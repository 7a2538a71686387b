-- The API's JSON form of each record (envelope and fields), written with every change so
-- that lists and reads serve it without rendering. Rows written before this migration are
-- filled in by the application at start (aims_store::records::backfill_documents).
ALTER TABLE records ADD COLUMN doc TEXT;
