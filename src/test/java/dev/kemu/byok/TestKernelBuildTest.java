package dev.kemu.byok;

import dev.kemu.testutil.HostTools;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test kernels' build: every image the tests boot is built, and a missing tool is named. */
class TestKernelBuildTest {

    @Test
    void kernel_everyImageTheTestsBootIsBuiltFromTheMakefile() {
        for (String image : List.of("serial32.elf", "pmidt32.elf", "higher64.elf", "higher64.elf32", "badpte64.elf",
                "badpte64.elf32")) {
            assertTrue(TestKernelBuild.kernel(image).toFile().length() > 0, image);
        }
    }

    @Test
    void kernel_unknownImage_namesTheMakefile() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> TestKernelBuild.kernel("no-such-kernel.elf"));
        assertTrue(error.getMessage().endsWith("no-such-kernel.elf was not built: src/test/kernels/Makefile has no "
                + "target for it"), error.getMessage());
    }

    @Test
    void missing_listsOnlyTheProgramsNotOnThePath() {
        assertEquals(List.of("kemu-no-such-tool"), HostTools.missing(List.of("gcc", "kemu-no-such-tool", "ld")));
    }

    @Test
    void missingToolsMessage_namesEachMissingToolAndHowToInstallIt() {
        assertEquals("the test kernels in src/test/kernels are built with make, gcc, as, ld, objcopy, but gcc and ld "
                + "are not on the PATH; install them (Debian: apt-get install gcc binutils make) and run the tests "
                + "again", TestKernelBuild.missingToolsMessage(List.of("gcc", "ld")));
    }
}
