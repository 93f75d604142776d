package io.dbmigrate.activities.migration;

import java.util.List;
import java.util.function.Predicate;

/**
 * The DDL of a schema in two sections, as pg_dump's {@code --section}: {@code preData} is what the data needs to
 * arrive (schemas, collations, types, sequences, functions, tables with their columns, defaults, CHECK and NOT NULL,
 * partitions, primary keys); {@code postData} is what can be built after it (other unique, exclusion and foreign-key
 * constraints, indexes, triggers, rules, policies, statistics, views). Each section is in dependency order.
 */
public record SchemaScript(List<SchemaObject> preData, List<SchemaObject> postData) {
    public SchemaScript {
        preData = List.copyOf(preData);
        postData = List.copyOf(postData);
    }

    /** The same script without the objects {@code skip} accepts (those the target already has). */
    public SchemaScript without(Predicate<SchemaObject> skip) {
        return new SchemaScript(preData.stream().filter(skip.negate()).toList(), postData.stream().filter(skip.negate()).toList());
    }

    public List<String> preDataStatements() {
        return statements(preData);
    }

    public List<String> postDataStatements() {
        return statements(postData);
    }

    private static List<String> statements(List<SchemaObject> objects) {
        return objects.stream().flatMap(o -> o.statements().stream()).toList();
    }
}
