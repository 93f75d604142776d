-- Key updates of rows whose TOASTed value they leave unchanged: Debezium sends a DELETE of the old key and a CREATE of
-- the new one without the value; the applier must move the row on the target and keep the value.
-- setup
CREATE TABLE attachments (id int PRIMARY KEY, name text NOT NULL, blob text NOT NULL);
-- random hex does not compress: 40 kB per row goes out of line
INSERT INTO attachments (id, name, blob)
SELECT i, 'a' || i, (SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, 1250) g) FROM generate_series(1, 10) i;
-- writes
UPDATE attachments SET id = id + 1000 WHERE id = (SELECT min(id) FROM attachments);
UPDATE attachments SET name = 'n' || current_setting('coverage.i') WHERE id = (SELECT max(id) FROM attachments);
