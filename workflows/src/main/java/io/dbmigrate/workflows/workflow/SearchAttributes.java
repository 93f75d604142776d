package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes.Builder;
import java.util.List;

/**
 * dbmigrate's search attributes (Keyword), for {@code temporal workflow list --query 'MigrationPhase="approval"'}.
 * A server knows them only once an operator registered them (deploy/ does), and an upsert of an unregistered one fails
 * the workflow task: the starter sets them only where they are registered, and the workflow keeps
 * {@link #MIGRATION_PHASE} current only in executions started with {@link #MIGRATION_ID}.
 */
public final class SearchAttributes {
    public static final SearchAttributeKey<String> MIGRATION_ID = SearchAttributeKey.forKeyword("MigrationId");
    public static final SearchAttributeKey<String> MIGRATION_PHASE = SearchAttributeKey.forKeyword("MigrationPhase");
    public static final SearchAttributeKey<String> SOURCE_HOST = SearchAttributeKey.forKeyword("SourceHost");
    public static final SearchAttributeKey<String> TARGET_HOST = SearchAttributeKey.forKeyword("TargetHost");
    public static final List<SearchAttributeKey<String>> ALL = List.of(MIGRATION_ID, MIGRATION_PHASE, SOURCE_HOST, TARGET_HOST);

    private SearchAttributes() {}

    /** What the starter sets at start: the migration, where it reads and writes, and its first phase. */
    public static io.temporal.common.SearchAttributes atStart(MigrationPlan plan) {
        Builder b = io.temporal.common.SearchAttributes.newBuilder();
        b.set(MIGRATION_ID, plan.migrationId());
        b.set(MIGRATION_PHASE, Phase.PREFLIGHT.label());
        b.set(SOURCE_HOST, plan.source().host());
        b.set(TARGET_HOST, plan.target().host());
        return b.build();
    }
}
