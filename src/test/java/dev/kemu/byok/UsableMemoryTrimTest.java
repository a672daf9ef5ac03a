package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.boot.UsableMemoryTrim;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the test harness cuts from a Multiboot 2 or Limine memory map is what the kernel then sees missing. */
class UsableMemoryTrimTest {
    private static final long BYTES = 128 << 10;

    private static KernelBoot boot(String kernel) {
        return new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                TestKernelBuild.kernel(kernel)), BootOptions.defaults());
    }

    @Test
    void multiboot2_theKernelSeesTheTopUsableRangeAndUpperMemoryShortened() {
        long top = MultibootInfo.usableEnd(MultibootInfo.pcMemoryMap(BootOptions.DEFAULT_RAM));
        try (KernelBoot boot = boot("mb2info32.elf")) {
            assertEquals(OptionalLong.of(top - BYTES), UsableMemoryTrim.trimTop(boot, BYTES));
            String console = boot.run().console();
            assertTrue(console.contains(String.format("mb2: mmap 0x100000 0x%x 1%n", top - BYTES - 0x100000)), console);
            assertTrue(console.contains("upper " + (top - BYTES - 0x100000) / 1024 + "\n"), console);
        }
    }

    @Test
    void limine_theKernelSeesItsHighestUsableEntryShortened() {
        long top = MultibootInfo.usableEnd(MultibootInfo.pcMemoryMap(BootOptions.DEFAULT_RAM));
        try (KernelBoot boot = boot("limine64.elf")) {
            long base = UsableMemoryTrim.trimTop(boot, BYTES).orElseThrow();
            assertEquals(top - BYTES, base);
            String console = boot.run().console();
            assertTrue(console.lines().anyMatch(line -> line.startsWith("limine64: memmap ")
                    && line.endsWith(" 0") && parseEnd(line) == base), console);
            assertTrue(console.lines().noneMatch(line -> line.startsWith("limine64: memmap ") && line.endsWith(" 0")
                    && parseEnd(line) > base), console);
        }
    }

    private static long parseEnd(String memmapLine) {
        String[] f = memmapLine.split(" ");
        return Long.decode(f[2]) + Long.decode(f[3]);
    }
}
