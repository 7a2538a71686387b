-- An import matches each incoming row to an existing AI system by its name, case-insensitively:
-- one indexed look-up per row instead of reading the organisation's whole inventory.
CREATE INDEX records_by_name ON records (org_id, kind, lower(data::jsonb ->> 'name'));
