-- Evidence file contents, content-addressed by SHA-256 within an organisation. Used when the
-- file store is the database (the default on PostgreSQL, so every instance reaches the files).
CREATE TABLE evidence_files (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, sha256)
);

-- Links are read by their target (traces, link filters, SoA snapshots): one index that answers
-- those reads alone, so the planner never prefers scanning the organisation's links by source.
DROP INDEX record_links_to;
CREATE INDEX record_links_to ON record_links (org_id, to_id, field, from_id);
