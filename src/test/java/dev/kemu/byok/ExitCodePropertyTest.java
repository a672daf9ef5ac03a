package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The exit status a kernel chooses reaches its user as under QEMU's isa-debug-exit, for any code the
 * kernel writes: {@code serial32.elf} exits with the N of {@code exit=N} on its command line, and both
 * kemu and QEMU end with {@code ((N << 1) | 1) & 0xff} (the operating system keeps 8 bits).
 */
class ExitCodePropertyTest {

    @Provide
    Arbitrary<Integer> exitCodes() {
        // the edges (0, the top bit of a byte, the last values an 8-bit status can tell apart) and a few more
        return Arbitraries.oneOf(Arbitraries.of(0, 1, 127, 128, 255, 256), Arbitraries.integers().between(0, 100_000));
    }

    @Property(tries = 8)
    void kemuAndQemuExitWithTheStatusIsaDebugExitGives(@ForAll("exitCodes") int code) {
        Path dir = temporaryDirectory();
        try {
            String commandLine = "exit=" + code;
            int expected = (code << 1 | 1) & 0xff;
            if (QemuRunner.isInstalled()) { // the reference; where it is missing, the kemu half still checks the rule
                GuestOutput qemu = QemuRunner.boot(TestKernelBuild.kernel("serial32.elf"), dir, commandLine);
                assertEquals(expected, qemu.exitStatus(), qemu::describe);
            }
            GuestOutput kemu = KemuCommand.boot(TestKernelBuild.kernel("serial32.elf"), dir, commandLine);
            assertEquals(expected, kemu.exitStatus(), kemu::describe);
        } finally {
            delete(dir);
        }
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("kemu-exit-code");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
