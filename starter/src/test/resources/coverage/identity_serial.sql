-- An identity column and a serial: rows keep their numbers, and after the switch the target's sequences are at least
-- where the source's were (the IT checks that too), so the application's next insert on the target does not collide.
-- setup
CREATE TABLE tickets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL);
CREATE TABLE notes (id serial PRIMARY KEY, body text);
INSERT INTO tickets (title) SELECT 't' || i FROM generate_series(1, 100) i;
INSERT INTO notes (body) SELECT 'n' || i FROM generate_series(1, 100) i;
-- writes
INSERT INTO tickets (title) VALUES ('live');
INSERT INTO notes (body) VALUES ('live');
UPDATE notes SET body = body || '!' WHERE id = 1 + current_setting('coverage.i')::int % 100;
DELETE FROM tickets WHERE id = (SELECT min(id) FROM tickets);
