-- The private status links of concerns raised through the public intake: only the SHA-256 of
-- each link's random token is kept, with the concern it opens (and nothing else).
CREATE TABLE concern_status_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (org_id, record_id) REFERENCES records (org_id, id)
);
