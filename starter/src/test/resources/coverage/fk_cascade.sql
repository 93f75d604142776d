-- A table referenced by a foreign key with ON DELETE CASCADE: deleting a parent on the source deletes its children
-- there, and both deletes travel the stream; the target must end with the same rows.
-- setup
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id) ON DELETE CASCADE, total numeric(10,2));
INSERT INTO customers SELECT i, 'c' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, 1 + i % 100, i * 1.25 FROM generate_series(1, 300) i;
-- writes
INSERT INTO customers VALUES (1000 + current_setting('coverage.i')::int, 'live');
INSERT INTO orders VALUES (10000 + 2 * current_setting('coverage.i')::int, 1000 + current_setting('coverage.i')::int, 1),
                          (10001 + 2 * current_setting('coverage.i')::int, 1000 + current_setting('coverage.i')::int, 2);
DELETE FROM customers WHERE id = 1000 + current_setting('coverage.i')::int - 2;
