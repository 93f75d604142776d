package io.dbmigrate.activities.snapshot;

import io.dbmigrate.workflows.model.TableRef;

/**
 * One piece of the initial copy: a whole leaf table, or a range of its heap pages ({@code [firstPage, endPage)},
 * {@code endPage} null = to the end) so a large table is copied by several workers and restarted piece by piece.
 * Each unit lands in one target transaction together with its row in {@link CopyState}: it is either all there,
 * marked done, or not there at all.
 */
record CopyUnit(TableRef table, int unit, Long firstPage, Long endPage, long estimatedRows, String format,
        Long rows, Long bytes) {

    boolean done() {
        return rows != null;
    }

    boolean wholeTable() {
        return firstPage == null;
    }

    /** The source query's filter: a TID range scan (PostgreSQL 14+) reads only these pages. */
    String pageFilter() {
        // numbers this class computed, not user input: COPY takes no parameters
        String from = "ctid >= '(" + firstPage + ",0)'::tid";
        return endPage == null ? from : from + " AND ctid < '(" + endPage + ",0)'::tid";
    }

    CopyUnit finished(long copiedRows, long copiedBytes) {
        return new CopyUnit(table, unit, firstPage, endPage, estimatedRows, format, copiedRows, copiedBytes);
    }
}
