-- A record row holds its fields twice (`data` for queries, `doc` as served), about 2 kB in
-- all: just over the size at which PostgreSQL compresses a row's long values (pglz), so every
-- read of a risk or a piece of evidence decompressed its document. Rows up to a page stay
-- inline and uncompressed; larger ones are still moved out of line as before.
ALTER TABLE records SET (toast_tuple_target = 8160);
