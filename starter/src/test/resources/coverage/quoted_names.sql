-- Names that need quoting: spaces, mixed case, a double quote in a table name and in a column name.
-- setup
CREATE TABLE "Order Lines" ("OrderId" int, "Line No" int, "Qty" int NOT NULL, PRIMARY KEY ("OrderId", "Line No"));
CREATE TABLE "Mixed ""Quote"" Case" (id int PRIMARY KEY, "Say ""hi""" text);
INSERT INTO "Order Lines" SELECT i / 3, i % 3, i FROM generate_series(1, 150) i;
INSERT INTO "Mixed ""Quote"" Case" SELECT i, 'x' FROM generate_series(1, 50) i;
-- writes
INSERT INTO "Order Lines" VALUES (1000 + current_setting('coverage.i')::int, 1, 1), (1000 + current_setting('coverage.i')::int, 2, 2);
UPDATE "Order Lines" SET "Qty" = "Qty" + 1 WHERE "OrderId" = 1 + current_setting('coverage.i')::int % 50;
UPDATE "Mixed ""Quote"" Case" SET "Say ""hi""" = 'it''s "' || current_setting('coverage.i') || '"' WHERE id = 1 + current_setting('coverage.i')::int % 50;
DELETE FROM "Order Lines" WHERE "OrderId" = 1000 + current_setting('coverage.i')::int - 3;
