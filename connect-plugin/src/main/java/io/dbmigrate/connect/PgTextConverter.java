package io.dbmigrate.connect;

import io.debezium.connector.postgresql.PostgresValueConverter;
import io.debezium.data.SpecialValueDecimal;
import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.SQLException;
import java.sql.SQLXML;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.postgresql.util.PGobject;

/**
 * Emits every column as its exact PostgreSQL text form, so nothing downstream (Debezium's logical types, Kafka's
 * JsonConverter) can change a value; dbmigrate's applier hands the text to the target column's input function.
 *
 * <p>Debezium has already parsed pgoutput's text into Java objects when a converter runs; {@link #toPgText} turns
 * each of those objects back into text PostgreSQL parses to the identical value. The one type where the object has
 * lost information (timetz: Debezium keeps only the UTC instant) is refused by dbmigrate's preflight, see
 * {@link #LOSSY_TYPES}. An unchanged TOASTed value becomes {@link #UNCHANGED_TOAST}, which no PostgreSQL text value
 * can equal (text never contains NUL).
 */
public final class PgTextConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {

    public static final String UNCHANGED_TOAST = "\u0000unchanged-toast";

    /** Types whose original text cannot be rebuilt from what Debezium hands a converter while streaming. */
    public static final Set<String> LOSSY_TYPES = Set.of("timetz");

    @Override
    public void configure(Properties props) {}

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        // optional even for NOT NULL columns: Debezium also runs the converter on parsed defaults, which may be null
        registration.register(SchemaBuilder.string().optional(), PgTextConverter::toPgText);
    }

    public static String toPgText(Object v) {
        if (v == null) {
            return null;
        }
        if (v.getClass() == Object.class) {
            // Debezium's unchanged-TOAST markers are bare Objects (UnchangedToastedReplicationMessageColumn)
            return UNCHANGED_TOAST;
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Boolean b) {
            return b ? "t" : "f";
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return v.toString();
        }
        if (v instanceof Double d) {
            return floatText(d, Double.toString(d), Double.doubleToRawLongBits(d) == Long.MIN_VALUE);
        }
        if (v instanceof Float f) {
            return floatText(f, Float.toString(f), Float.floatToRawIntBits(f) == Integer.MIN_VALUE);
        }
        if (v instanceof SpecialValueDecimal d) {
            return numericText(d);
        }
        if (v instanceof BigDecimal d) {
            return d.toPlainString();
        }
        if (v instanceof LocalDate d) {
            return dateText(d);
        }
        if (v instanceof Instant i) {
            return timestampText(i);
        }
        if (v instanceof OffsetDateTime o) {
            return timestamptzText(o);
        }
        if (v instanceof LocalDateTime l) {
            return timestampText(l.toInstant(ZoneOffset.UTC));
        }
        if (v instanceof byte[] b) {
            return "\\x" + HexFormat.of().formatHex(b);
        }
        if (v instanceof UUID u) {
            return u.toString();
        }
        if (v instanceof PGobject o) {
            // PGInterval, PGpoint, PGmoney, ... and unknown types: getValue() is PostgreSQL's own text
            return o.getValue();
        }
        if (v instanceof Array a) {
            // PgArray keeps the literal it was built from, multi-dimensional and NULL elements included
            return a.toString();
        }
        if (v instanceof SQLXML x) {
            try {
                return x.getString();
            } catch (SQLException e) {
                throw new IllegalArgumentException("cannot read an xml value", e);
            }
        }
        throw new IllegalArgumentException("dbmigrate converter: no exact text form for a value of " + v.getClass().getName());
    }

    private static String floatText(double d, String javaText, boolean negativeZero) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (negativeZero) {
            return "-0";
        }
        return javaText; // Java's shortest round-trip form; PostgreSQL's float input reads "1.0E10" too
    }

    private static String numericText(SpecialValueDecimal d) {
        Optional<BigDecimal> value = d.getDecimalValue();
        if (value.isPresent()) {
            return value.get().toPlainString();
        }
        double special = d.toDouble();
        if (Double.isNaN(special)) {
            return "NaN";
        }
        return special > 0 ? "Infinity" : "-Infinity";
    }

    static String dateText(LocalDate d) {
        if (d.equals(PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE)) {
            return "infinity";
        }
        if (d.equals(PostgresValueConverter.NEGATIVE_INFINITY_LOCAL_DATE)) {
            return "-infinity";
        }
        StringBuilder b = new StringBuilder(14);
        date(b, d.getYear(), d.getMonthValue(), d.getDayOfMonth());
        return era(b, d.getYear());
    }

    static String timestampText(Instant i) {
        if (i.equals(PostgresValueConverter.POSITIVE_INFINITY_INSTANT)) {
            return "infinity";
        }
        if (i.equals(PostgresValueConverter.NEGATIVE_INFINITY_INSTANT)) {
            return "-infinity";
        }
        return localText(LocalDateTime.ofInstant(i, ZoneOffset.UTC), "");
    }

    static String timestamptzText(OffsetDateTime o) {
        if (o.equals(PostgresValueConverter.POSITIVE_INFINITY_OFFSET_DATE_TIME)) {
            return "infinity";
        }
        if (o.equals(PostgresValueConverter.NEGATIVE_INFINITY_OFFSET_DATE_TIME)) {
            return "-infinity";
        }
        return localText(o.withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime(), "+00");
    }

    // hand-formatted: String.format was a fifth of Debezium's streaming thread (JFR, 2,500 commits/s)
    private static String localText(LocalDateTime t, String zone) {
        StringBuilder b = new StringBuilder(36);
        date(b, t.getYear(), t.getMonthValue(), t.getDayOfMonth());
        pad(b.append(' '), t.getHour(), 2);
        pad(b.append(':'), t.getMinute(), 2);
        pad(b.append(':'), t.getSecond(), 2);
        pad(b.append('.'), t.getNano() / 1000, 6);
        b.append(zone);
        return era(b, t.getYear());
    }

    /** Java counts 1 BC as year 0; PostgreSQL writes it "0001 ... BC". */
    private static void date(StringBuilder b, int year, int month, int day) {
        pad(b, year <= 0 ? 1 - year : year, 4);
        pad(b.append('-'), month, 2);
        pad(b.append('-'), day, 2);
    }

    private static String era(StringBuilder b, int year) {
        return (year <= 0 ? b.append(" BC") : b).toString();
    }

    /** Zero-padded to at least {@code width} digits (never cut: year 12345 stays 12345). */
    private static void pad(StringBuilder b, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            b.append('0');
        }
        b.append(digits);
    }
}
