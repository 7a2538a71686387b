-- Members managed in the product: a membership can be deactivated in one organisation (and
-- reactivated with its role) without touching the person's other memberships; it carries a
-- version for If-Match. The token check reads `active` (the trigger of migration 6 already
-- moves the auth generation with every change to a membership).
ALTER TABLE memberships ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE memberships ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- When each person last signed in interactively (not a token's use: tokens keep their own).
ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;

-- Invitations: a single-use link (only its SHA-256 is kept) that makes the invited address a
-- member with the role chosen, creating the person if they are new.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'auditor', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by TEXT REFERENCES users(id),
    revoked_at TEXT,
    UNIQUE (org_id, id)
);
CREATE INDEX invitations_by_org ON invitations (org_id, created_at, id);
