package dev.kemu.kernel;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootModule;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boot modules sit right after the kernel, where HC_MM_INIT would put its root: the root goes after them. */
class ModulesAndMemoryServicesTest {
    @Test
    void mmInit_placesItsRootAfterTheBootModules_whichStayIntact(@TempDir Path dir) throws Exception {
        byte[] content = new byte[3 * 4096 + 100];
        Arrays.fill(content, (byte) 0x5a);
        Path module = Files.write(dir.resolve("initrd.bin"), content);
        BootOptions options = BootOptions.defaults().withModules(List.of(MultibootModule.parse(module + "=initrd")));
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), options)) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.console());
            assertEquals(0, report.run().exitCode(), "kemu's kernel demo passed: " + report.console());
            var ram = boot.machine().ram();
            long info = dev.kemu.boot.MultibootInfo.ADDRESS;
            assertEquals(1, ram.read32(info + MultibootLayout.MBI_MODS_COUNT));
            long entry = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MODS_ADDR));
            long start = Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_START));
            assertArrayEquals(content, ram.read(start, content.length), "the module's bytes are untouched");
            long root = boot.services().memory().orElseThrow().root().phys().value();
            assertTrue(root >= start + content.length, String.format("mm root P0x%x overlaps the module at P0x%x", root, start));
            assertTrue(boot.services().memory().orElseThrow().check().isEmpty());
        }
    }
}
