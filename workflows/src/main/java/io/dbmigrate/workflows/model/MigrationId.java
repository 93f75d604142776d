package io.dbmigrate.workflows.model;

import java.util.regex.Pattern;

/** Migration ids name replication slots and publications, so they are limited to what those names allow. */
public final class MigrationId {
    private static final Pattern VALID = Pattern.compile("[a-z][a-z0-9_]{0,39}");

    private MigrationId() {}

    /** What every object dbmigrate creates for a migration is called after: slot, publication, schemas, connector. */
    public static String objectName(String id) {
        return "dbmigrate_" + id;
    }

    public static String require(String id) {
        if (id == null || !VALID.matcher(id).matches()) {
            throw new IllegalArgumentException("migrationId '" + id + "' is invalid: use 1-40 characters of a-z, 0-9 and _, "
                    + "starting with a letter (it names the replication slot dbmigrate_<id>)");
        }
        return id;
    }
}
