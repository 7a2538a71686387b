-- SQLite only (covering indexes for the token check). On PostgreSQL an index-only scan still
-- visits the table for rows on pages changed since the last vacuum, and the organisation's row
-- changes with every write, so the primary keys serve as before. The version stays in step on
-- both backends.
SELECT 1;
