-- A counter that moves, in the same transaction, with every change to what a token check reads
-- (tokens, memberships, users, organisations' names). A process that remembers a token's check
-- with the counter it saw reads the counter with each request and checks the token afresh when
-- it moved: a revocation or role change by any process applies to the very next request.
-- Statement triggers on the columns the check reads: recording a token's last use, or the head
-- of an organisation's activity chain, leaves the counter alone.
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

CREATE TRIGGER api_tokens_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF org_id, user_id, token_hash, expires_at, revoked_at ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER memberships_auth_generation
    AFTER INSERT OR DELETE OR UPDATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER users_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF id, email, display_name, active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER organizations_auth_generation
    AFTER INSERT OR DELETE OR UPDATE OF id, slug, name ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation();
