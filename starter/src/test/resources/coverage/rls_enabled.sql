-- Row-level security enabled, not forced, with a tenant policy, on a table the migration role owns: the owner is not
-- subject to it, so the copy and the validation see every row.
-- setup
CREATE TABLE accounts (id int PRIMARY KEY, tenant text NOT NULL, balance int NOT NULL);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_only ON accounts USING (tenant = current_setting('app.tenant', true));
INSERT INTO accounts SELECT i, 'tenant' || i % 4, i FROM generate_series(1, 200) i;
-- writes
UPDATE accounts SET balance = balance + 1 WHERE id = 1 + current_setting('coverage.i')::int % 200;
INSERT INTO accounts VALUES (1000 + current_setting('coverage.i')::int, 'tenant' || current_setting('coverage.i')::int % 4, 0);
