-- A counter that moves, in the same transaction, with every change to what a token check reads
-- (tokens, memberships, users, organisations' names). A process that remembers a token's check
-- with the counter it saw reads the counter with each request and checks the token afresh when
-- it moved: a revocation or role change by any process applies to the very next request.
-- Triggers on the columns the check reads: recording a token's last use, or the head of an
-- organisation's activity chain, leaves the counter alone.
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO auth_generation (id, generation) VALUES (1, 1);

CREATE TRIGGER api_tokens_auth_generation_insert AFTER INSERT ON api_tokens BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER api_tokens_auth_generation_delete AFTER DELETE ON api_tokens BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER api_tokens_auth_generation_update AFTER UPDATE OF org_id, user_id, token_hash, expires_at, revoked_at ON api_tokens BEGIN UPDATE auth_generation SET generation = generation + 1; END;

CREATE TRIGGER memberships_auth_generation_insert AFTER INSERT ON memberships BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER memberships_auth_generation_delete AFTER DELETE ON memberships BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER memberships_auth_generation_update AFTER UPDATE OF org_id, user_id, role ON memberships BEGIN UPDATE auth_generation SET generation = generation + 1; END;

CREATE TRIGGER users_auth_generation_insert AFTER INSERT ON users BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER users_auth_generation_delete AFTER DELETE ON users BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER users_auth_generation_update AFTER UPDATE OF id, email, display_name, active ON users BEGIN UPDATE auth_generation SET generation = generation + 1; END;

CREATE TRIGGER organizations_auth_generation_insert AFTER INSERT ON organizations BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER organizations_auth_generation_delete AFTER DELETE ON organizations BEGIN UPDATE auth_generation SET generation = generation + 1; END;
CREATE TRIGGER organizations_auth_generation_update AFTER UPDATE OF id, slug, name ON organizations BEGIN UPDATE auth_generation SET generation = generation + 1; END;
