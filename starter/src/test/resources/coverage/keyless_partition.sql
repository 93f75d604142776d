-- The root is REPLICA IDENTITY FULL but a partition has neither a key nor FULL of its own (partitions do not inherit
-- the root's identity): updates and deletes of its rows would fail on the source once published.
-- setup
CREATE TABLE events (id int, region text, payload text) PARTITION BY LIST (region);
ALTER TABLE events REPLICA IDENTITY FULL;
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
INSERT INTO events SELECT i, 'eu', 'p' FROM generate_series(1, 10) i;
