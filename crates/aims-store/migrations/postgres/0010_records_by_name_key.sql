-- The import's look-up by name, as one key that no other index of records can serve. Without
-- statistics (a table never analysed) the planner guesses every equality alike, so with
-- (org_id, kind, lower(name)) it took (org_id, kind, ref) or records_by_kind and filtered the
-- name over the whole inventory; an expression only this index holds leaves it no such choice.
DROP INDEX records_by_name;
CREATE INDEX records_by_name ON records ((ARRAY[org_id, kind, lower(data::jsonb ->> 'name')]));
