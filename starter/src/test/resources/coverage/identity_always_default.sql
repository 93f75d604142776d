-- A GENERATED ALWAYS identity column that is not the key, updated to DEFAULT: the source hands out a new number, but an
-- UPDATE on the target may only set such a column to DEFAULT ("can only be updated to DEFAULT"), so the applier leaves
-- it out and the target keeps the old number. The live validation finds those rows different and the migration rolls
-- back naming the table: a known gap (carrying it needs the target's column BY DEFAULT until the switch).
-- setup
CREATE TABLE counters (id int PRIMARY KEY, ticket bigint GENERATED ALWAYS AS IDENTITY, label text NOT NULL);
INSERT INTO counters (id, label) SELECT i, 'c' || i FROM generate_series(1, 100) i;
-- writes
UPDATE counters SET ticket = DEFAULT WHERE id = 1 + current_setting('coverage.i')::int % 100;
