-- A list's search (`?q=`, the pickers) looks for text in a record's name, title and reference.
-- PostgreSQL cannot read an indexed expression from an index (SQLite's records_search), so the
-- searched text is stored with the row: a search compares a short column instead of lower-casing
-- and parsing every document of the kind. The same expression as SQLite's index.
ALTER TABLE records ADD COLUMN search TEXT GENERATED ALWAYS AS (
    lower(coalesce(data::jsonb ->> 'name', '') || ' ' || coalesce(data::jsonb ->> 'title', '') || ' ' || coalesce(ref, ''))
) STORED;
