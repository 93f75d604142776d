package io.dbmigrate.activities.migration;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * The live validation's heartbeat details: small whatever the tables. {@code run} names its progress, kept on the
 * target ({@link StoredProgress}); the mark is the stream's applied position taken before the first attempt read
 * any row, which a resumed attempt must keep (rows read before a worker died count in the result). The rest is for
 * people and tests: tables finished, ranges of the passes (block ranges, or runs of chunks read by key) finished
 * before this attempt began and read by this attempt, and those of the tables begun so far (how many depends on the
 * table's size, or on its sampled chunks: a fresh run may have others).
 */
public record ValidationBeat(
        @JsonProperty("run") String run,
        @JsonProperty("markOffset") Long markOffset,
        @JsonProperty("markTopic") String markTopic,
        @JsonProperty("markTakenAtMs") Long markTakenAtMs,
        @JsonProperty("tablesDone") int tablesDone,
        @JsonProperty("tables") int tables,
        @JsonProperty("blockRangesResumed") long blockRangesResumed,
        @JsonProperty("blockRangesRead") long blockRangesRead,
        @JsonProperty("rangesPlanned") long rangesPlanned) {

    static ValidationBeat of(String run, FrozenValidation.Start mark, int tablesDone, int tables, long resumed, long read,
            long planned) {
        return new ValidationBeat(run, mark == null ? null : mark.kafkaOffset(), mark == null ? null : mark.topicId(),
                mark == null ? null : mark.takenAt().toEpochMilli(), tablesDone, tables, resumed, read, planned);
    }

    FrozenValidation.Start mark() {
        return markOffset == null ? null : new FrozenValidation.Start(markOffset, markTopic, Instant.ofEpochMilli(markTakenAtMs));
    }
}
