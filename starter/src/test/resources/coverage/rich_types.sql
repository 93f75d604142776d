-- Columns of an enum, a domain with a CHECK, arrays (one of them two-dimensional, one of the enum) and jsonb.
-- setup
CREATE TYPE mood AS ENUM ('sad', 'ok', 'it''s complicated');
CREATE DOMAIN score AS int CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE profiles (
  id int PRIMARY KEY,
  mood mood NOT NULL,
  score score,
  tags text[],
  grid int[][],
  moods mood[],
  doc jsonb
);
INSERT INTO profiles
SELECT i, (enum_range(NULL::mood))[1 + i % 3], i % 101, ARRAY['a', 'b "q"', NULL, 'c,d'], ARRAY[[i, 2], [3, NULL]],
       ARRAY['ok', 'it''s complicated']::mood[], jsonb_build_object('i', i, 'nested', jsonb_build_array(1.50, 'x', NULL, true))
  FROM generate_series(1, 100) i;
-- writes
UPDATE profiles SET mood = (enum_range(NULL::mood))[1 + current_setting('coverage.i')::int % 3],
       tags = tags || current_setting('coverage.i'), doc = jsonb_set(doc, '{i}', to_jsonb(current_setting('coverage.i')::int)),
       grid = ARRAY[[current_setting('coverage.i')::int, 0], [0, NULL]]
 WHERE id = 1 + current_setting('coverage.i')::int % 100;
INSERT INTO profiles VALUES (1000 + current_setting('coverage.i')::int, 'sad', NULL, '{}', NULL, '{sad}', '{"live": [1e3, "é"]}');
