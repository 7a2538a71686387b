-- Foundation: organisations, people and access, the generic record store with links and
-- revisions, and the append-only activity log. Every organisation-owned table carries org_id
-- in its keys, and links reference (org_id, id) pairs, so a cross-organisation link cannot exist.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    log_seq BIGINT NOT NULL DEFAULT 0,
    log_head TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'auditor', 'viewer')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships(org_id, user_id)
);
CREATE INDEX api_tokens_by_member ON api_tokens(org_id, user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT,
    data TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE one_time_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id TEXT REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE login_failures (
    email TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until TEXT
);

CREATE TABLE frameworks (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    urn TEXT NOT NULL,
    ref_id TEXT,
    name TEXT NOT NULL,
    library_version BIGINT NOT NULL,
    loaded_at TEXT NOT NULL,
    PRIMARY KEY (org_id, urn)
);

CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT,
    version BIGINT NOT NULL,
    state TEXT,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    updated_at TEXT NOT NULL,
    updated_by TEXT REFERENCES users(id),
    UNIQUE (org_id, id),
    UNIQUE (org_id, kind, ref)
);
CREATE INDEX records_by_kind ON records(org_id, kind, archived, seq);

CREATE TABLE record_links (
    org_id TEXT NOT NULL,
    from_id TEXT NOT NULL,
    field TEXT NOT NULL,
    to_id TEXT NOT NULL,
    PRIMARY KEY (org_id, from_id, field, to_id),
    FOREIGN KEY (org_id, from_id) REFERENCES records(org_id, id),
    FOREIGN KEY (org_id, to_id) REFERENCES records(org_id, id)
);
CREATE INDEX record_links_to ON record_links(org_id, to_id);

CREATE TABLE record_revisions (
    org_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    record_version BIGINT NOT NULL,
    state TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    PRIMARY KEY (org_id, record_id, n),
    FOREIGN KEY (org_id, record_id) REFERENCES records(org_id, id)
);

CREATE TABLE activity_log (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    changes TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    canonical TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX activity_log_by_record ON activity_log(org_id, record_id);

-- The log is append-only: the database itself refuses to change or remove an event.
-- (SQLite has no TRUNCATE; a DELETE without WHERE fires the trigger like any other.)
CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
BEGIN
    SELECT RAISE(ABORT, 'activity_log is append-only');
END;
CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log
BEGIN
    SELECT RAISE(ABORT, 'activity_log is append-only');
END;
