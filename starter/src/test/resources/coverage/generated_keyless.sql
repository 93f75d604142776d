-- Stored generated columns on a table without a key (REPLICA IDENTITY FULL) holding equal rows: pgoutput does not
-- publish generated columns (before PostgreSQL 18); the target computes them, and rows are found without them.
-- setup
CREATE TABLE measures (sensor int NOT NULL, celsius numeric NOT NULL,
                       fahrenheit numeric GENERATED ALWAYS AS (celsius * 9 / 5 + 32) STORED);
ALTER TABLE measures REPLICA IDENTITY FULL;
INSERT INTO measures (sensor, celsius) SELECT i % 3, 20 FROM generate_series(1, 12) i;
-- writes
INSERT INTO measures (sensor, celsius) VALUES (current_setting('coverage.i')::int % 3, 21);
UPDATE measures SET celsius = celsius + 1 WHERE ctid = (SELECT ctid FROM measures WHERE sensor = 1 LIMIT 1);
DELETE FROM measures WHERE ctid = (SELECT ctid FROM measures WHERE sensor = 2 LIMIT 1);
