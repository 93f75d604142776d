package io.dbmigrate.activities.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretRefTest {

    @Test
    void envVariableThatIsSet() {
        assertEquals("s3cret", SecretRef.resolve("env:PGPW", Map.of("PGPW", "s3cret")));
    }

    @Test
    void envVariableThatIsUnset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecretRef.resolve("env:DBMIGRATE_NO_SUCH_VAR", Map.of("OTHER", "x")));
        assertEquals("passwordRef env:DBMIGRATE_NO_SUCH_VAR: environment variable DBMIGRATE_NO_SUCH_VAR"
                + " is not set on the worker", e.getMessage());
    }

    @Test
    void fileWithTrailingNewlineIsRefusedBecauseConnectReadsItVerbatim(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "s3cret\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SecretRef.resolve("file:" + pw, Map.of()));
        assertTrue(e.getMessage().contains("trailing newline"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void fileIsReadExactly(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "s3cret");
        assertEquals("s3cret", SecretRef.resolve("file:" + pw, Map.of()));
    }

    @Test
    void shortRawPasswordIsNotEchoed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SecretRef.resolve("pass", Map.of()));
        assertFalse(e.getMessage().contains("pass'"), e.getMessage());
        assertFalse(e.getMessage().contains("'pa"), e.getMessage());
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecretRef.resolve("file:" + missing, Map.of()));
        assertEquals("passwordRef file:" + missing + ": cannot read " + missing + " on the worker (NoSuchFileException)",
                e.getMessage());
    }

    @Test
    void rawPasswordIsRefusedWithoutEchoingIt() {
        String password = "correct-horse-battery";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecretRef.resolve(password, Map.of(password, "x")));
        assertFalse(e.getMessage().contains(password), e.getMessage());
        assertFalse(e.getMessage().contains("horse"), e.getMessage());
        assertTrue(e.getMessage().contains("use env:NAME or file:PATH"), e.getMessage());
    }

    @Test
    void emptyReference() {
        assertThrows(IllegalArgumentException.class, () -> SecretRef.resolve("", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> SecretRef.resolve("  ", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> SecretRef.resolve(null, Map.of()));
    }

    @Test
    void connectReferences() {
        assertEquals("${env:PGPW}", SecretRef.asConnectReference("env:PGPW"));
        assertEquals("${dir:/tmp/x:pw}", SecretRef.asConnectReference("file:/tmp/x/pw"));
        assertThrows(IllegalArgumentException.class, () -> SecretRef.asConnectReference("hunter2"));
    }
}
