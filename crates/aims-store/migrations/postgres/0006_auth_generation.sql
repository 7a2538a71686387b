-- A counter that moves, in the same transaction, with every change to what a token check reads
-- (tokens, memberships, users, organisations' names). A process that remembers a token's check
-- with the counter it saw reads the counter with each request and checks the token afresh when
-- it moved: a revocation or role change by any process applies to the very next request.
-- Triggers on the columns the check reads: recording a token's last use, or the head of an
-- organisation's activity chain, leaves the counter alone. They are deferred to the commit, so
-- the counter's row is the last lock a transaction takes (an organisation renamed while one of
-- its tokens is created cannot deadlock on it) and is held only while the commit lasts.
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO auth_generation (id, generation) VALUES (1, 1);

CREATE FUNCTION bump_auth_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER api_tokens_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF org_id, user_id, token_hash, expires_at, revoked_at ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE CONSTRAINT TRIGGER memberships_auth_generation
    AFTER INSERT OR DELETE OR UPDATE ON memberships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE CONSTRAINT TRIGGER users_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF id, email, display_name, active ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE CONSTRAINT TRIGGER organizations_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF id, slug, name ON organizations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
