-- Sessions a person can see and end: the device (a short form of the browser's User-Agent),
-- when the session was signed in and when it was last used (moved at most once a minute).
ALTER TABLE sessions ADD COLUMN device TEXT;
ALTER TABLE sessions ADD COLUMN created_at TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;

-- Single sign-on over OpenID Connect, one configuration per organisation. `required` and the
-- break-glass owner are columns because every password sign-in asks about them; the rest is a
-- JSON document. The client secret is sealed (AES-256-GCM, the organisation id as AAD).
CREATE TABLE sso_settings (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    document TEXT NOT NULL,
    client_secret TEXT,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    break_glass_user_id TEXT REFERENCES users(id),
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

-- The provider's subject (`sub`) of each person who signed in with SSO, per organisation: the
-- identity stays linked to the same person even when the provider's e-mail changes.
CREATE TABLE sso_identities (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, subject),
    UNIQUE (org_id, user_id)
);
