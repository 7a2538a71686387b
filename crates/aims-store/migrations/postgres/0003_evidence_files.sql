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
