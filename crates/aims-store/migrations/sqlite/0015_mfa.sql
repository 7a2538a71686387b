-- Two-step sign-in. A person's authenticator secret is sealed with the server's key (the
-- database alone never reveals it); `last_step` is the last RFC 6238 time step accepted, so a
-- code is never accepted twice. A secret with no `enabled_at` is an enrolment not yet
-- confirmed with a code.
CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
    secret_sealed TEXT NOT NULL,
    last_step BIGINT,
    enabled_at TEXT,
    created_at TEXT NOT NULL
);

-- Single-use recovery codes, kept only as SHA-256 of a random 80-bit code.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- Whom an organisation requires two-step sign-in of; no row means 'off'. `version` for If-Match.
CREATE TABLE org_security (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    mfa_required TEXT NOT NULL CHECK (mfa_required IN ('off', 'admins', 'everyone')),
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
