-- No primary key, REPLICA IDENTITY FULL, and rows that are exact duplicates of each other: an update or delete of one
-- of two equal rows must change exactly one row on the target too.
-- setup
CREATE TABLE readings (sensor int NOT NULL, value int NOT NULL, note text);
ALTER TABLE readings REPLICA IDENTITY FULL;
INSERT INTO readings SELECT i % 10, i % 3, CASE WHEN i % 4 = 0 THEN NULL ELSE 'n' END FROM generate_series(1, 200) i;
INSERT INTO readings SELECT sensor, value, note FROM readings;
-- writes
INSERT INTO readings VALUES (current_setting('coverage.i')::int % 10, 7, NULL), (current_setting('coverage.i')::int % 10, 7, NULL);
UPDATE readings SET value = value + 1 WHERE ctid = (SELECT ctid FROM readings WHERE sensor = current_setting('coverage.i')::int % 10 AND value = 7 LIMIT 1);
DELETE FROM readings WHERE ctid = (SELECT ctid FROM readings WHERE sensor = (current_setting('coverage.i')::int + 5) % 10 AND note IS NULL LIMIT 1);
