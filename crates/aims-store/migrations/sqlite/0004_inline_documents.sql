-- PostgreSQL only (row compression threshold); SQLite stores rows as they are. The version
-- stays in step on both backends.
SELECT 1;
