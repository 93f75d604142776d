-- A partitioned table, a primary key on each partition (through the root); the writes move rows across partitions
-- (the change is then a delete from one partition and an insert into another, published through the root).
-- setup
CREATE TABLE events (id int NOT NULL, region text NOT NULL, payload text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
CREATE TABLE events_other PARTITION OF events DEFAULT;
INSERT INTO events SELECT i, (ARRAY['eu', 'us', 'apac'])[1 + i % 3], 'p' || i FROM generate_series(1, 300) i;
-- writes
INSERT INTO events VALUES (1000 + current_setting('coverage.i')::int, (ARRAY['eu', 'us', 'apac'])[1 + current_setting('coverage.i')::int % 3], 'live');
UPDATE events SET region = CASE region WHEN 'eu' THEN 'us' WHEN 'us' THEN 'apac' ELSE 'eu' END, payload = payload || '+'
 WHERE id = 1 + current_setting('coverage.i')::int % 300;
DELETE FROM events WHERE id = 1000 + current_setting('coverage.i')::int - 5;
