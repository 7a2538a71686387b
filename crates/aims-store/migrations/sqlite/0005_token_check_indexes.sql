-- Every API request checks its token by joining the token, its membership, organisation and
-- user. These indexes hold every column that check reads, so each table is answered from its
-- index alone (one B-tree search each instead of two); the read connections name them with
-- INDEXED BY. None of their columns change with the activity log's head, so writes of records
-- do not touch them.
CREATE INDEX api_tokens_check ON api_tokens (token_hash, revoked_at, expires_at, id, org_id, user_id, last_used_at);
CREATE INDEX memberships_check ON memberships (org_id, user_id, role);
CREATE INDEX organizations_check ON organizations (id, slug, name);
CREATE INDEX users_check ON users (id, active, email, display_name);
