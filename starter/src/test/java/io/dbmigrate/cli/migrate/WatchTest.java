package io.dbmigrate.cli.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.SnapshotCopyProgress;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchTest {
    @Test
    void copyProgressShowsTotalsEtaAndOnlyTheTablesStillCopying() {
        SnapshotCopyProgress p = new SnapshotCopyProgress("0/16B3748", 12, 9, 1_500_000, 250_000_000, 2_000_000,
                50_000, 10L, List.of(
                        new SnapshotCopyProgress.Table("public.small", 1, 1, 1_000, 100_000, 1_000),
                        new SnapshotCopyProgress.Table("public.big", 11, 8, 1_499_000, 249_900_000, 1_999_000)));
        String line = Watch.render(p);
        assertTrue(line.contains("copy 9/12 units"), line);
        assertTrue(line.contains("1,500,000 of ~2,000,000 rows"), line);
        assertTrue(line.contains("ETA 10 s"), line);
        assertTrue(line.contains("public.big: 8/11 units"), line);
        assertFalse(line.contains("public.small"), "a finished table is not listed: " + line);
    }

    @Test
    void aFailedValidationShowsItsRowsByKindAndWhereItsReportIs() {
        TableValidation t = new TableValidation("public.items", 20_000, 20_000, 10, List.of("missing key#1a2b3c4d"), null, null,
                1L, 0L, 2L);
        ValidationReport v = ValidationReport.of(false, List.of(t)).withReportPath("/srv/dbmigrate/reports/m1-validation-x.json");
        MigrationStatus s = new MigrationStatus("m1", MigrationStatus.State.FAILED, MigrationStatus.Phase.VALIDATION, List.of(),
                null, null, v, null, List.of(), List.of(), null, null, null, null, null, "validation found differences");
        String text = Watch.render(s, null);
        assertTrue(text.contains("public.items: 20000 vs 20000 rows, 1 missing, 0 extra, 2 different: [missing key#1a2b3c4d]"), text);
        assertTrue(text.contains("report /srv/dbmigrate/reports/m1-validation-x.json"), text);
    }

    @Test
    void aValidationOnRequestSaysWhoAskedAndHowFarItGot() {
        MigrationStatus s = new MigrationStatus("m1", MigrationStatus.State.AWAITING_APPROVAL, MigrationStatus.Phase.APPROVAL, List.of(),
                null, null, null, null, List.of(), List.of(), null, "alice", null, null, null, null);
        assertTrue(Watch.render(s, null).contains("validation requested by alice running"), Watch.render(s, null));
        String progress = Watch.render(new io.dbmigrate.activities.migration.ValidationBeat("run-1", 10L, "t", 1L, 2, 5, 7, 31, 60));
        assertTrue(progress.contains("validating 2/5 tables, 31 ranges read (and 7 before a restart)"), progress);
    }

    @Test
    void theCutoversValidationHeartbeatOfTextIsNoProgressLineAndNoError() {
        io.temporal.common.converter.DataConverter dc = io.temporal.common.converter.DefaultDataConverter.newDefaultInstance();
        io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse frozen = describedWith(dc.toPayloads("checked 3 of 4 tables").get());
        assertTrue(Watch.validationProgress(frozen, dc).isEmpty());
        io.dbmigrate.activities.migration.ValidationBeat beat = new io.dbmigrate.activities.migration.ValidationBeat("run-1", 10L, "t", 1L,
                1, 4, 0, 12, 30);
        assertEquals(beat, Watch.validationProgress(describedWith(dc.toPayloads(beat).get()), dc).orElseThrow());
    }

    private static io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse describedWith(io.temporal.api.common.v1.Payloads details) {
        return io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.newBuilder()
                .addPendingActivities(io.temporal.api.workflow.v1.PendingActivityInfo.newBuilder()
                        .setActivityType(io.temporal.api.common.v1.ActivityType.newBuilder().setName("ValidateData"))
                        .setHeartbeatDetails(details))
                .build();
    }

    @Test
    void anUnknownEtaSaysSo() {
        SnapshotCopyProgress p = new SnapshotCopyProgress("0/1", 1, 0, 0, 0, 0, 0, null, List.of());
        assertTrue(Watch.render(p).contains("ETA ?"), Watch.render(p));
    }
}
