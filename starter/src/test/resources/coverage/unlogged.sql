-- An UNLOGGED table writes no WAL, so logical decoding never sees its changes.
-- setup
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);
INSERT INTO scratch SELECT i, 'v' FROM generate_series(1, 10) i;
