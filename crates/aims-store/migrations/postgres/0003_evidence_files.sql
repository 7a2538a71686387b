-- Evidence file contents, content-addressed by SHA-256 within an organisation. Used when the
-- file store is the database (the default on PostgreSQL, so every instance reaches the files).
CREATE TABLE evidence_files (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, sha256)
);

-- Links are read by their target (traces, link filters, SoA snapshots). Each link keeps the
-- kind of the record holding it, so a trace counts and picks the records that point at a
-- record from this one index, without reading those records' rows.
ALTER TABLE record_links ADD COLUMN from_kind TEXT;
UPDATE record_links SET from_kind = (SELECT r.kind FROM records r WHERE r.org_id = record_links.org_id AND r.id = record_links.from_id);
DROP INDEX record_links_to;
CREATE INDEX record_links_to ON record_links (org_id, to_id, field, from_kind, from_id);

-- Records written before stored documents existed are found through this (normally empty)
-- index, so the check at every start reads nothing instead of scanning every record.
CREATE INDEX records_without_doc ON records (seq) WHERE doc IS NULL;
