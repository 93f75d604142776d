-- A DEFERRABLE primary key cannot be the arbiter of the applier's INSERT ... ON CONFLICT.
-- setup
CREATE TABLE ledger (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, amount int);
INSERT INTO ledger SELECT i, i FROM generate_series(1, 10) i;
