package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring/alerts.yml as Prometheus reads it: promtool checks the rules and runs their unit tests (series that
 * fire each alert and series that must not); every alert has a severity, a test that fires it, and its playbook in
 * RUNBOOK.md; every dbmigrate metric an alert reads is documented in docs/monitoring.md. CI installs Debian's
 * {@code prometheus} package for promtool (.ci/run).
 */
class AlertRulesTest {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    static final Path MONITORING = ROOT.resolve("deploy/monitoring");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static List<JsonNode> alerts() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode group : YAML.readTree(MONITORING.resolve("alerts.yml").toFile()).get("groups")) {
            group.get("rules").forEach(r -> {
                if (r.has("alert")) {
                    out.add(r);
                }
            });
        }
        return out;
    }

    static String promtool(String... args) throws Exception {
        Path bin = Files.isExecutable(Path.of("/usr/bin/promtool")) ? Path.of("/usr/bin/promtool") : null;
        if (bin == null) {
            fail("promtool not found: install Debian's prometheus package (apt-get install prometheus; .ci/run does)");
        }
        List<String> cmd = new ArrayList<>(List.of(bin.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(MONITORING.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool hangs");
        assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    @Test
    void promtoolAcceptsTheRulesAndTheirTestsPass() throws Exception {
        assertTrue(promtool("check", "rules", "alerts.yml").contains("SUCCESS: " + alerts().size() + " rules found"));
        assertTrue(promtool("test", "rules", "alerts-test.yml").contains("SUCCESS"));
    }

    @Test
    void everyAlertHasASeverityATestThatFiresItAndAPlaybook() throws IOException {
        JsonNode tests = YAML.readTree(MONITORING.resolve("alerts-test.yml").toFile()).get("tests");
        Set<String> fired = new TreeSet<>();
        Set<String> silent = new TreeSet<>();
        for (JsonNode t : tests) {
            for (JsonNode a : t.get("alert_rule_test")) {
                (a.get("exp_alerts").isEmpty() ? silent : fired).add(a.get("alertname").asText());
            }
        }
        String runbook = Files.readString(ROOT.resolve("RUNBOOK.md"));
        List<String> missing = new ArrayList<>();
        for (JsonNode a : alerts()) {
            String name = a.get("alert").asText();
            String severity = a.path("labels").path("severity").asText();
            if (!severity.matches("P[0-3]")) {
                missing.add(name + ": severity '" + severity + "' is not P0-P3");
            }
            if (!fired.contains(name)) {
                missing.add(name + ": no promtool test fires it");
            }
            if (!runbook.contains("### Alert: " + name + " (" + severity + ")")) {
                missing.add(name + ": no RUNBOOK.md section '### Alert: " + name + " (" + severity + ")'");
            }
        }
        assertEquals(List.of(), missing);
        assertFalse(silent.isEmpty(), "some tests must check that an alert stays silent");
    }

    @Test
    void everyMetricTheAlertsReadIsDocumented() throws IOException {
        String doc = Files.readString(ROOT.resolve("docs/monitoring.md"));
        Pattern metric = Pattern.compile("\\bdbmigrate_[a-z_]+");
        List<String> undocumented = new ArrayList<>();
        for (JsonNode a : alerts()) {
            Matcher m = metric.matcher(a.get("expr").asText());
            while (m.find()) {
                if (!doc.contains("`" + m.group() + "`")) {
                    undocumented.add(a.get("alert").asText() + ": " + m.group());
                }
            }
        }
        assertEquals(List.of(), undocumented);
    }
}
