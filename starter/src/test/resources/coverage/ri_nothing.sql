-- REPLICA IDENTITY NOTHING: once the table is published, every UPDATE and DELETE on it fails on the source.
-- setup
CREATE TABLE accounts (id int PRIMARY KEY, balance int);
ALTER TABLE accounts REPLICA IDENTITY NOTHING;
INSERT INTO accounts SELECT i, i FROM generate_series(1, 10) i;
