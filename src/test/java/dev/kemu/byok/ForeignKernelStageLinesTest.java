package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stage lines on kernels that do not follow kemu's own layout (32-bit kernels that never enable
 * paging, higher-half kernels with their own stage order): they say what the CPU did, with no
 * "!! expected" warnings built on kemu's layout, and they come from the CPU, not from symbols.
 */
class ForeignKernelStageLinesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"serial32.elf", "pmidt32.elf", "higher64.elf", "higher64.elf32"})
    void kemuBoot_stageLinesCarryNoWarningsBuiltOnKemusLayout(String image) {
        GuestOutput kemu = KemuCommand.boot(TestKernelBuild.kernel(image), dir, null);
        assertTrue(kemu.toolOutput().contains("--- debug console ---"), kemu::describe); // the boot ran
        assertFalse(kemu.toolOutput().contains("!! expected"), kemu::describe);
    }
}
