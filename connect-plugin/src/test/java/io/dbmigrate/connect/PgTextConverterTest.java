package io.dbmigrate.connect;

import static io.dbmigrate.connect.PgTextConverter.toPgText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.debezium.connector.postgresql.PostgresValueConverter;
import io.debezium.data.SpecialValueDecimal;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PGInterval;
import org.postgresql.util.PGobject;

class PgTextConverterTest {

    @Test
    void nullStaysNull() {
        assertNull(toPgText(null));
    }

    @Test
    void bareObjectIsTheUnchangedToastMarker() {
        assertSame(PgTextConverter.UNCHANGED_TOAST, toPgText(new Object()));
        assertEquals("\u0000unchanged-toast", PgTextConverter.UNCHANGED_TOAST);
    }

    @Test
    void stringsAndIntegersPassThrough() {
        assertEquals("héllo 'x'", toPgText("héllo 'x'"));
        assertEquals("-42", toPgText(-42));
        assertEquals("9223372036854775807", toPgText(Long.MAX_VALUE));
        assertEquals("-32768", toPgText(Short.MIN_VALUE));
    }

    @Test
    void booleans() {
        assertEquals("t", toPgText(Boolean.TRUE));
        assertEquals("f", toPgText(Boolean.FALSE));
    }

    @Test
    void doubles() {
        assertEquals("NaN", toPgText(Double.NaN));
        assertEquals("Infinity", toPgText(Double.POSITIVE_INFINITY));
        assertEquals("-Infinity", toPgText(Double.NEGATIVE_INFINITY));
        assertEquals("-0", toPgText(-0.0d));
        assertEquals("0.0", toPgText(0.0d));
        assertEquals("1.5", toPgText(1.5d));
        assertEquals("1.0E300", toPgText(1e300d));
        assertEquals("0.1", toPgText(0.1d));
    }

    @Test
    void floats() {
        assertEquals("NaN", toPgText(Float.NaN));
        assertEquals("Infinity", toPgText(Float.POSITIVE_INFINITY));
        assertEquals("-Infinity", toPgText(Float.NEGATIVE_INFINITY));
        assertEquals("-0", toPgText(-0.0f));
        assertEquals("1.5", toPgText(1.5f));
        assertEquals("0.1", toPgText(0.1f)); // float's own shortest form, not the widened double's
        assertEquals("1.0E30", toPgText(1e30f));
    }

    @Test
    void specialValueDecimals() {
        assertEquals("6.0", toPgText(new SpecialValueDecimal(new BigDecimal("6.0"))));
        assertEquals("-0.00100", toPgText(new SpecialValueDecimal(new BigDecimal("-0.00100"))));
        assertEquals("NaN", toPgText(SpecialValueDecimal.NOT_A_NUMBER));
        assertEquals("Infinity", toPgText(SpecialValueDecimal.POSITIVE_INF));
        assertEquals("-Infinity", toPgText(SpecialValueDecimal.NEGATIVE_INF));
    }

    @Test
    void bigDecimalsArePlainWithTheirScale() {
        assertEquals("123.4500", toPgText(new BigDecimal("123.4500")));
        assertEquals("1000", toPgText(new BigDecimal("1E+3")));
        assertEquals("0.0000001", toPgText(new BigDecimal("1E-7")));
    }

    @Test
    void dates() {
        assertEquals("2024-02-29", toPgText(LocalDate.of(2024, 2, 29)));
        assertEquals("0007-01-05", toPgText(LocalDate.of(7, 1, 5)));
        assertEquals("0001-12-31 BC", toPgText(LocalDate.of(0, 12, 31)));
        assertEquals("0044-03-15 BC", toPgText(LocalDate.of(-43, 3, 15)));
        assertEquals("0099-01-09", toPgText(LocalDate.of(99, 1, 9)));
        assertEquals("12345-06-07", toPgText(LocalDate.of(12345, 6, 7)));
        assertEquals("infinity", toPgText(PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE));
        assertEquals("-infinity", toPgText(PostgresValueConverter.NEGATIVE_INFINITY_LOCAL_DATE));
    }

    @Test
    void instantsAreUtcWallClockWithMicroseconds() {
        assertEquals("2024-01-02 03:04:05.123456", toPgText(Instant.parse("2024-01-02T03:04:05.123456Z")));
        assertEquals("2024-01-02 03:04:05.000000", toPgText(Instant.parse("2024-01-02T03:04:05Z")));
        assertEquals("1969-12-31 23:59:59.999999", toPgText(Instant.ofEpochSecond(-1, 999_999_000)));
        assertEquals("0044-03-15 12:30:00.000001 BC",
                toPgText(LocalDateTime.of(-43, 3, 15, 12, 30, 0, 1_000).toInstant(ZoneOffset.UTC)));
        assertEquals("12345-06-07 00:00:09.000000", toPgText(Instant.parse("+12345-06-07T00:00:09Z")));
        assertEquals("infinity", toPgText(PostgresValueConverter.POSITIVE_INFINITY_INSTANT));
        assertEquals("-infinity", toPgText(PostgresValueConverter.NEGATIVE_INFINITY_INSTANT));
    }

    @Test
    void localDateTimesAreWrittenAsIs() {
        assertEquals("2024-01-02 03:04:05.500000", toPgText(LocalDateTime.of(2024, 1, 2, 3, 4, 5, 500_000_000)));
    }

    @Test
    void offsetDateTimesAreConvertedToUtc() {
        assertEquals("2024-01-02 03:04:05.500000+00",
                toPgText(OffsetDateTime.of(2024, 1, 2, 5, 4, 5, 500_000_000, ZoneOffset.ofHours(2))));
        assertEquals("2024-01-01 00:30:00.000000+00",
                toPgText(OffsetDateTime.of(2023, 12, 31, 19, 0, 0, 0, ZoneOffset.ofHoursMinutes(-5, -30))));
        // 1 AD 01:00 at +02 is 1 BC (Java year 0) 23:00 UTC; BC goes after the zone, as PostgreSQL writes it
        assertEquals("0001-12-31 23:00:00.000000+00 BC",
                toPgText(OffsetDateTime.of(1, 1, 1, 1, 0, 0, 0, ZoneOffset.ofHours(2))));
        assertEquals("infinity", toPgText(PostgresValueConverter.POSITIVE_INFINITY_OFFSET_DATE_TIME));
        assertEquals("-infinity", toPgText(PostgresValueConverter.NEGATIVE_INFINITY_OFFSET_DATE_TIME));
    }

    @Test
    void byteArraysAreLowercaseHex() {
        assertEquals("\\x00ff10ab", toPgText(new byte[] {0x00, (byte) 0xFF, 0x10, (byte) 0xAB}));
        assertEquals("\\x", toPgText(new byte[0]));
    }

    @Test
    void uuids() {
        assertEquals("0e37df36-f698-11e6-8dd4-cb9ced3df976",
                toPgText(UUID.fromString("0E37DF36-F698-11E6-8DD4-CB9CED3DF976")));
    }

    @Test
    void pgObjectsGiveTheirValue() throws Exception {
        PGobject point = new PGobject();
        point.setType("point");
        point.setValue("(1.5,-2)");
        assertEquals("(1.5,-2)", toPgText(point));

        PGInterval interval = new PGInterval(1, 2, 3, 4, 5, 6.5);
        assertEquals(interval.getValue(), toPgText(interval));
        assertEquals(interval, new PGInterval(toPgText(interval)));
    }

    @Test
    void unsupportedClassIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> toPgText(Duration.ofSeconds(1)));
        assertEquals("dbmigrate converter: no exact text form for a value of java.time.Duration", e.getMessage());
    }
}
