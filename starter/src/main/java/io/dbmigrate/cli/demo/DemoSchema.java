package io.dbmigrate.cli.demo;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The demo's application schema: four tables that together use bigint, numeric, text, timestamptz, jsonb, bytea,
 * boolean, uuid and an enum; a composite primary key (order_items), a sequence-backed key (orders), foreign keys, and
 * large TOASTed document bodies the writer never touches while it updates their rows.
 */
final class DemoSchema {
    static final String[] DDL = {
        "CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled')",
        """
        CREATE TABLE customers (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid uuid NOT NULL, name text NOT NULL, email text,
          created_at timestamptz NOT NULL DEFAULT now(), active boolean NOT NULL DEFAULT true, profile jsonb)""",
        """
        CREATE TABLE orders (
          id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), status order_status NOT NULL,
          total numeric(12,2) NOT NULL, placed_at timestamptz NOT NULL, note text)""",
        """
        CREATE TABLE order_items (
          order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE, line_no int NOT NULL, sku text NOT NULL,
          qty int NOT NULL, price numeric(12,2) NOT NULL, PRIMARY KEY (order_id, line_no))""",
        """
        CREATE TABLE documents (
          id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL, attachment bytea, revision int NOT NULL DEFAULT 0,
          updated_at timestamptz)""",
        "CREATE INDEX ON orders (customer_id)"
    };

    private DemoSchema() {}

    static int customers(int rows) {
        return Math.max(10, rows / 10);
    }

    static int documents(int rows) {
        return Math.max(10, rows / 10);
    }

    /** Loads about {@code rows} rows in all: 10% customers, 40% orders, 40% order lines, 10% documents. */
    static void load(Endpoint source, int rows) throws SQLException {
        int customers = customers(rows);
        int orders = Math.max(10, rows * 4 / 10);
        int documents = documents(rows);
        try (Connection c = Pg.connect(source, "dbmigrate-demo"); Statement st = c.createStatement()) {
            for (String ddl : DDL) {
                st.execute(ddl);
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO customers (uuid, name, email, created_at, active, profile)
                    SELECT gen_random_uuid(), 'customer ' || g, 'c' || g || '@example.com', now() - g * interval '1 minute',
                           g % 7 <> 0, jsonb_build_object('tier', g % 3, 'tags', jsonb_build_array('a', g))
                      FROM generate_series(1, ?) g""")) {
                ps.setInt(1, customers);
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO orders (customer_id, status, total, placed_at, note)
                    SELECT 1 + g % ?, (ARRAY['new','paid','shipped','cancelled']::order_status[])[1 + g % 4],
                           round((random() * 1000)::numeric, 2), now() - g * interval '1 second', CASE WHEN g % 5 = 0 THEN 'gift' END
                      FROM generate_series(1, ?) g""")) {
                ps.setInt(1, customers);
                ps.setInt(2, orders);
                ps.execute();
            }
            st.execute("""
                    INSERT INTO order_items (order_id, line_no, sku, qty, price)
                    SELECT o.id, 1, 'SKU-' || (o.id % 100), 1 + o.id % 5, round((o.total / 2)::numeric, 2) FROM orders o""");
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO documents (id, title, body, attachment, revision, updated_at)
                    SELECT g, 'doc ' || g,
                           CASE WHEN g <= 200 THEN (SELECT string_agg(md5(g::text || s::text), ' ') FROM generate_series(1, 300) s)
                                ELSE 'short body ' || g END,
                           decode(md5(g::text), 'hex'), 0, now()
                      FROM generate_series(1, ?) g""")) {
                ps.setInt(1, documents);
                ps.execute();
            }
            st.execute("ANALYZE");
        }
    }
}
