package io.dbmigrate.activities.validation;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A bounded pool of sessions on one side. Every session is set up at login so that a row's text is the same on both
 * clusters whatever their configuration: {@code timestamptz} in UTC, ISO dates, the classic interval style, floats
 * with every digit (the shortest text that reads back exactly), bytea in hex, money in the C locale; and
 * {@code row_security = off}, so a policy that would hide rows from the validating role is an error, never a filter.
 */
final class Sessions implements AutoCloseable {
    /** A block range of 128 MB, or a table read in one range (partitioned, or before PostgreSQL 14), may take long. */
    static final Duration STATEMENT_TIMEOUT = Duration.ofHours(12);

    static final Map<String, String> CANONICAL = canonical();

    private static Map<String, String> canonical() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("row_security", "off");
        s.put("timezone", "UTC");
        s.put("datestyle", "ISO");
        s.put("intervalstyle", "postgres");
        s.put("extra_float_digits", "3");
        s.put("bytea_output", "hex");
        s.put("lc_monetary", "C");
        // many short statements (the narrowing's) whose estimates can pass jit_above_cost: compiling each costs more
        // than it saves on expressions this simple
        s.put("jit", "off");
        // the engine's parallelism is its own block ranges: a parallel plan for one (chosen once a chunk expression looks
        // costly) reads the whole table in every range, filtering on ctid, and starts two workers per statement
        s.put("max_parallel_workers_per_gather", "0");
        // a pass groups its rows by chunk in memory: up to 65,536 chunks of a few dozen bytes
        s.put("work_mem", "64MB");
        return s;
    }

    private final HikariDataSource pool;
    final Endpoint endpoint;

    Sessions(Endpoint e, String side, int size) {
        this.endpoint = e;
        Properties p = Pg.properties(e, "dbmigrate-validate");
        p.putAll(Pg.timeouts(STATEMENT_TIMEOUT, STATEMENT_TIMEOUT.plusMinutes(1), CANONICAL));
        HikariConfig c = new HikariConfig();
        c.setPoolName("dbmigrate-validate-" + side);
        c.setJdbcUrl(Pg.url(e));
        c.setDataSourceProperties(p);
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(0);
        c.setConnectionTimeout(Pg.LOGIN_TIMEOUT.plusSeconds(10).toMillis());
        // a chunk holds its session for as long as its statement runs
        c.setMaxLifetime(0);
        c.setKeepaliveTime(0);
        this.pool = new HikariDataSource(c);
    }

    Connection get() throws SQLException {
        return pool.getConnection();
    }

    @Override
    public void close() {
        pool.close();
    }
}
