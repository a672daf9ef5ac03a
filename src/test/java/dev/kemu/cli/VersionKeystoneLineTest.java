package dev.kemu.cli;

import dev.kemu.toolchain.keystone.KeystoneModule;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kemu version} says how Keystone runs here: compiled classes (which jar), the interpreter and why, or unavailable. */
class VersionKeystoneLineTest {
    @Test
    void versionNamesKeystonesEngine() {
        CliRun run = CliRun.of("version");
        assertEquals(0, run.exit(), run.all());
        String line = run.out().lines().filter(l -> l.startsWith("keystone ")).findFirst().orElseThrow(() -> new AssertionError(run.all()));
        if (!KeystoneModule.available()) {
            assertTrue(line.startsWith("keystone unavailable: "), line);
        } else if (line.startsWith("keystone compiled to JVM classes (")) {
            assertTrue(line.contains(".jar)"), line);
        } else {
            assertTrue(line.startsWith("keystone on Chicory's interpreter: ") && line.contains("scripts/mvn.sh compile"), line);
        }
    }
}
