package io.dbmigrate.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The created-objects list is saga state in the workflow's history: it must read back through Temporal's converter. */
class DbObjectTest {
    static final DataConverter CONVERTER = DefaultDataConverter.newDefaultInstance();
    static final Type LIST = new com.fasterxml.jackson.core.type.TypeReference<List<DbObject>>() {}.getType();

    static List<DbObject> read(String json) {
        Optional<Payload> p = CONVERTER.toPayload(json); // a string payload: re-encode its data as JSON
        Payload raw = p.orElseThrow().toBuilder().setData(com.google.protobuf.ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
        return CONVERTER.fromPayload(raw, List.class, LIST);
    }

    @Test
    void roundTripsShortWithoutNulls() {
        List<DbObject> created = List.of(DbObject.of(DbObject.Kind.SCHEMA, null, "App \"Core\""),
                new DbObject(DbObject.Kind.FUNCTION, "App \"Core\"", "f", "integer, \"App \"\"Core\"\"\".mood"),
                DbObject.table(new TableRef("public", "orders")));
        String json = CONVERTER.toPayload(created).orElseThrow().getData().toStringUtf8();
        assertEquals("[{\"kind\":\"SCHEMA\",\"name\":\"App \\\"Core\\\"\"},"
                + "{\"kind\":\"FUNCTION\",\"schema\":\"App \\\"Core\\\"\",\"name\":\"f\",\"args\":\"integer, \\\"App \\\"\\\"Core\\\"\\\"\\\".mood\"},"
                + "{\"kind\":\"TABLE\",\"schema\":\"public\",\"name\":\"orders\"}]", json);
        assertEquals(created, read(json));
    }

    @Test
    void historiesRecordedBeforeItReadAsTables() {
        // the PrepareTargetSchema result of migration-demo-rolled-back-at-cutover.json
        assertEquals(List.of(DbObject.table(new TableRef("public", "customers")), DbObject.table(new TableRef("public", "orders"))),
                read("[\"public.customers\",\"public.orders\"]"));
    }
}
