-- Logical decoding messages written by the application, transactional (counted in their transaction by Debezium)
-- and not: they are not data, and the transaction around them must land exactly.
-- setup
CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL);
-- writes
INSERT INTO events VALUES (current_setting('coverage.i')::int, 'audit');
SELECT pg_logical_emit_message(true, 'app.audit', 'row ' || current_setting('coverage.i'));
UPDATE events SET kind = 'seen' WHERE id = current_setting('coverage.i')::int;
SELECT pg_logical_emit_message(false, 'app.ping', 'x');
