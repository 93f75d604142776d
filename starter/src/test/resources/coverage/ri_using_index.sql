-- REPLICA IDENTITY USING INDEX on a unique index other than the primary key: its changes name rows by that index.
-- setup
CREATE TABLE codes (id int PRIMARY KEY, code text NOT NULL UNIQUE, v int);
ALTER TABLE codes REPLICA IDENTITY USING INDEX codes_code_key;
INSERT INTO codes SELECT i, 'c' || i, i FROM generate_series(1, 10) i;
-- writes
UPDATE codes SET v = v + 1 WHERE id = 1 + current_setting('coverage.i')::int % 10;
UPDATE codes SET code = 'c' || (100 + current_setting('coverage.i')::int) WHERE id = 1 + current_setting('coverage.i')::int % 10;
