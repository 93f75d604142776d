-- A primary key and a large text stored out of line (TOAST), while the writes update only the other columns: the
-- change then carries the large value as "unchanged", and the applier must leave it as it is on the target.
-- setup
CREATE TABLE documents (id int PRIMARY KEY, revision int NOT NULL DEFAULT 0, body text NOT NULL);
-- random hex does not compress: 40 kB per row goes out of line
INSERT INTO documents (id, body)
SELECT i, (SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, 1250) g) FROM generate_series(1, 20) i;
-- writes
UPDATE documents SET revision = revision + 1 WHERE id = 1 + current_setting('coverage.i')::int % 20;
