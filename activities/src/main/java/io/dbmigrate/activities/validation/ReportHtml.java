package io.dbmigrate.activities.validation;

import java.util.List;

/**
 * The report as one self-contained HTML page (no script, no external file): a summary, then per table its rows on
 * each side, chunks, and the differing keys by kind.
 */
public final class ReportHtml {
    private ReportHtml() {}

    public static String render(ValidationReport r) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dbmigrate compare: ")
                .append(esc(r.source())).append(" vs ").append(esc(r.target())).append("</title>\n<style>")
                .append("body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}")
                .append("td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
                .append(".ok{color:#17612e}.bad{color:#a31515}code{font:12px ui-monospace,monospace}h2{margin-top:1.5em}")
                .append("</style></head><body>\n");
        h.append("<h1>").append(r.equal() ? "<span class=\"ok\">Equal</span>" : "<span class=\"bad\">Differences found</span>")
                .append("</h1>\n<p>source <code>").append(esc(r.source())).append("</code>, target <code>").append(esc(r.target()))
                .append("</code>; ").append(r.tables().size()).append(" tables, ").append(String.format("%,d", r.sourceRows()))
                .append(" source rows, ").append(String.format("%.1f", r.seconds())).append(" s.</p>\n");
        h.append("<table><tr><th>table</th><th>verdict</th><th>source rows</th><th>target rows</th><th>chunks</th>")
                .append("<th>chunks differing</th><th>missing on target</th><th>extra on target</th><th>different values</th><th>seconds</th></tr>\n");
        for (TableReport t : r.tables()) {
            h.append("<tr><td><a href=\"#").append(anchor(t.table())).append("\">").append(esc(t.table())).append("</a>")
                    .append(t.keyless() ? " (no key)" : "").append("</td><td>")
                    .append(t.error() != null ? "<span class=\"bad\">error</span>"
                            : t.equal() ? "<span class=\"ok\">equal</span>" : "<span class=\"bad\">differs</span>")
                    .append("</td>").append(num(t.sourceRows())).append(num(t.targetRows())).append(num(t.chunks()))
                    .append(num(t.chunksDiffering())).append(num(t.missing())).append(num(t.extra())).append(num(t.different()))
                    .append("<td class=\"n\">").append(String.format("%.1f", t.seconds())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (TableReport t : r.tables()) {
            if (t.equal()) {
                continue;
            }
            h.append("<h2 id=\"").append(anchor(t.table())).append("\">").append(esc(t.table())).append("</h2>\n");
            if (t.error() != null) {
                h.append("<p class=\"bad\">").append(esc(t.error())).append("</p>\n");
                continue;
            }
            for (Difference.Kind kind : Difference.Kind.values()) {
                List<Difference> ds = t.differences().stream().filter(d -> d.kind() == kind).toList();
                if (ds.isEmpty()) {
                    continue;
                }
                h.append("<h3>").append(label(kind, t.keyless())).append(" (").append(ds.size()).append(" listed)</h3>\n<table><tr><th>")
                        .append(t.keyless() ? "row hash" : "key").append("</th>").append(t.keyless() ? "<th>rows</th>" : "").append("</tr>\n");
                for (Difference d : ds) {
                    h.append("<tr><td><code>").append(esc(String.join(", ", d.key()))).append("</code></td>")
                            .append(t.keyless() ? "<td>" + esc(d.detail()) + "</td>" : "").append("</tr>\n");
                }
                h.append("</table>\n");
            }
            if (t.truncated()) {
                h.append("<p>More differences were counted than listed (the list is capped).</p>\n");
            }
        }
        return h.append("</body></html>\n").toString();
    }

    private static String label(Difference.Kind k, boolean keyless) {
        return switch (k) {
            case MISSING -> keyless ? "Rows the target holds fewer times" : "Missing on the target";
            case EXTRA -> keyless ? "Rows the target holds more times" : "Extra on the target";
            case DIFFERENT -> "Different values";
        };
    }

    private static String num(long n) {
        return "<td class=\"n\">" + String.format("%,d", n) + "</td>";
    }

    private static String anchor(String table) {
        return "t-" + Integer.toHexString(table.hashCode());
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
