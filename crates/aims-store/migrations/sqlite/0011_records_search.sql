-- A list's search (`?q=`, the pickers) looks for text in a record's name, title and reference.
-- Without this index every search read each record of the kind (its row is a few kilobytes with
-- the document) and parsed its JSON; here the searched text sits beside the list's key, in the
-- order a page reads, exactly as the page query spells it (page_json::searched_sql).
CREATE INDEX records_search ON records (org_id, kind, archived, seq,
    lower(coalesce(json_extract(data, '$.name'), '') || ' ' || coalesce(json_extract(data, '$.title'), '') || ' ' || coalesce(ref, '')));
