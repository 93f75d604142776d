package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EphemeralPortsTest {
    @TempDir Path dir;

    @Test
    void parsesTheKernelsFormat() {
        EphemeralPorts r = EphemeralPorts.parse("32768\t60999\n", "test");
        assertEquals(32768, r.first());
        assertEquals(60999, r.last());
        assertNull(r.note());
        assertTrue(r.contains(32768) && r.contains(60999));
        assertFalse(r.contains(32767) || r.contains(61000));
        assertEquals(1024, EphemeralPorts.parse(" 1024   65535 ", "test").first());
    }

    @Test
    void refusesWhatIsNotARange() {
        for (String bad : new String[] {"", "32768", "32768 60999 1", "60999 32768", "0 100", "1024 70000", "a b"}) {
            StackException e = assertThrows(StackException.class, () -> EphemeralPorts.parse(bad, "/x/range"), bad);
            assertTrue(e.getMessage().contains("/x/range"), e.getMessage());
        }
    }

    @Test
    void readsTheRangeFromTheFileNotAConstant() throws Exception {
        Path f = Files.writeString(dir.resolve("ip_local_port_range"), "20000\t29999\n");
        EphemeralPorts r = EphemeralPorts.read(f);
        assertEquals(20000, r.first());
        assertEquals(29999, r.last());
        assertNull(r.note());
    }

    @Test
    void assumesLinuxsDefaultOnlyWhenTheFileIsAbsentAndSaysSo() {
        EphemeralPorts r = EphemeralPorts.read(dir.resolve("absent"));
        assertEquals(32768, r.first());
        assertEquals(60999, r.last());
        assertTrue(r.note().contains(dir.resolve("absent") + " does not exist: assuming"), r.note());
    }

    @Test
    void aFileThatCannotBeReadIsAnErrorNotTheDefault() {
        // a directory stands in for an unreadable file: the kernel has a range, so guessing one would be wrong
        assertThrows(StackException.class, () -> EphemeralPorts.read(dir));
    }

    @Test
    void thisMachinesRangeComesFromTheKernel() {
        if (Files.exists(EphemeralPorts.RANGE_FILE)) {
            assertNull(EphemeralPorts.read().note());
        }
    }
}
