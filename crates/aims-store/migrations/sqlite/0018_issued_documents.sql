-- Issued documents: every report generated (kind, format, the record it is about, hashes, who
-- and when), and the exact version of each record it was made from, so the product can show
-- when a record changed after a document was issued from it (drift).
CREATE TABLE issued_documents (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    subject_id TEXT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    record_count BIGINT NOT NULL,
    issued_by TEXT REFERENCES users(id),
    issued_at TEXT NOT NULL,
    UNIQUE (org_id, id)
);
CREATE INDEX issued_documents_by_org ON issued_documents (org_id, issued_at, id);

CREATE TABLE issued_document_records (
    org_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, document_id, record_id),
    FOREIGN KEY (org_id, document_id) REFERENCES issued_documents (org_id, id)
);
-- "Changed since issued in …" on a record's page: the documents made from one record.
CREATE INDEX issued_document_records_by_record ON issued_document_records (org_id, record_id);
