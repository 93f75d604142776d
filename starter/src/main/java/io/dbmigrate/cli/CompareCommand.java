package io.dbmigrate.cli;

import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.activities.validation.ReportHtml;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.validation.ValidationReport;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./dbmigrate compare}: the validation engine on two databases, with no migration. Passwords are given by
 * reference ({@code env:NAME} or {@code file:PATH}), never on the command line.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Compares the tables of two PostgreSQL databases row by row (chunk hashes computed in each database, "
                + "differing chunks narrowed to their keys) and reports the rows missing, extra or different on the target. "
                + "Exit code 0: equal; 1: differences or a table that could not be compared.")
public final class CompareCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--source", required = true, paramLabel = "URL", description = "postgresql://USER@HOST[:PORT]/DATABASE (no password in it).")
    String sourceUrl;
    @Option(names = "--target", required = true, paramLabel = "URL", description = "postgresql://USER@HOST[:PORT]/DATABASE (no password in it).")
    String targetUrl;
    @Option(names = "--source-password", paramLabel = "REF", defaultValue = "env:PGPASSWORD",
            description = "The source's password by reference: env:NAME or file:PATH (default: ${DEFAULT-VALUE}).")
    String sourcePassword;
    @Option(names = "--target-password", paramLabel = "REF", defaultValue = "env:PGPASSWORD",
            description = "The target's password by reference: env:NAME or file:PATH (default: ${DEFAULT-VALUE}).")
    String targetPassword;
    @Option(names = "--tables", split = ",", paramLabel = "TABLE",
            description = "Tables to compare, schema.name or name (public); default: every table of the source outside the system schemas.")
    List<String> tables;
    @Option(names = "--json", description = "Progress to stderr; stdout holds only the report, one JSON object.")
    boolean json;
    @Option(names = "--html", paramLabel = "FILE", description = "Also write the report as a self-contained HTML page.")
    Path html;
    @Mixin ValidationOptions validation;

    @Override
    public Integer call() throws Exception {
        Endpoint source = endpoint("--source", sourceUrl, sourcePassword);
        Endpoint target = endpoint("--target", targetUrl, targetPassword);
        List<TableRef> list = tables == null || tables.isEmpty() ? ValidationEngine.userTables(source)
                : tables.stream().map(String::strip).filter(s -> !s.isEmpty()).map(TableRef::parse).toList();
        if (list.isEmpty()) {
            throw new IllegalArgumentException("no tables to compare in " + source.describe());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter info = json ? spec.commandLine().getErr() : out;
        ValidationEngine.Options options = validation.options();
        ValidationReport report;
        try (ValidationEngine engine = new ValidationEngine(source, target, options, Progress.none(), null, line -> {
            info.println(line);
            info.flush();
        })) {
            report = engine.run(list);
        }
        if (html != null) {
            Files.writeString(html, ReportHtml.render(report));
        }
        if (json) {
            out.println(report.toJson(false));
        } else {
            summary(out, report);
            if (html != null) {
                out.println("report: " + html.toAbsolutePath());
            }
        }
        out.flush();
        return report.equal() ? 0 : 1;
    }

    private static void summary(PrintWriter out, ValidationReport r) {
        out.println();
        out.println(String.format("%-40s %12s %12s %7s %9s %9s %9s  %s", "table", "source rows", "target rows", "chunks",
                "missing", "extra", "different", "verdict"));
        for (TableReport t : r.tables()) {
            out.println(String.format("%-40s %,12d %,12d %7d %,9d %,9d %,9d  %s", t.table(), t.sourceRows(), t.targetRows(), t.chunks(),
                    t.missing(), t.extra(), t.different(), t.error() != null ? "ERROR: " + t.error() : t.equal() ? "equal" : "DIFFERS"));
            t.differences().stream().limit(10).forEach(d -> out.println("    " + d.kind().name().toLowerCase() + " "
                    + String.join(", ", d.key()) + (d.detail() == null ? "" : " (" + d.detail() + ")")));
            if (t.differences().size() > 10 || t.truncated()) {
                out.println("    ... (--json or --html lists up to --max-keys)");
            }
        }
        out.println(String.format("%s: %d tables, %,d source rows in %.1f s", r.equal() ? "EQUAL" : "DIFFERENT", r.tables().size(),
                r.sourceRows(), r.seconds()));
    }

    /** {@code postgresql://user@host[:port]/database}; a password in the URL is refused. */
    static Endpoint endpoint(String option, String url, String passwordRef) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(option + ": not a URL (" + e.getMessage() + "); use postgresql://USER@HOST[:PORT]/DATABASE");
        }
        if (u.getScheme() == null || !Arrays.asList("postgresql", "postgres").contains(u.getScheme())) {
            throw new IllegalArgumentException(option + ": use postgresql://USER@HOST[:PORT]/DATABASE");
        }
        String user = u.getUserInfo();
        if (user != null && user.contains(":")) {
            throw new IllegalArgumentException(option + ": the URL holds a password; give it by reference instead ("
                    + option + "-password env:NAME or file:PATH), so it shows in no process list or shell history");
        }
        String db = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
        if (user == null || user.isEmpty() || u.getHost() == null || db.isEmpty()) {
            throw new IllegalArgumentException(option + ": the URL needs a user, a host and a database: postgresql://USER@HOST[:PORT]/DATABASE");
        }
        return new Endpoint(u.getHost(), u.getPort() < 0 ? 5432 : u.getPort(), db, user, passwordRef);
    }
}
