package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.boot.StageEvent;
import dev.kemu.elf.ElfImage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 64-bit kernel converted to ELF32 for QEMU (objcopy -O elf32-i386) keeps only the low 32 bits of its
 * symbols; kemu still sees it reach kernel_main and names its sign-extended addresses.
 */
class ConvertedElf32KernelTest {
    @Test
    void higherHalfKernelAsElf32_reachesKernelMain_andItsRipsAreSymbolized() {
        Path elf32 = TestKernelBuild.kernel("higher64.elf32");
        long kernelMain = NmSymbols.of(TestKernelBuild.kernel("higher64.elf")).address("kernel_main");
        assertTrue(kernelMain < 0, "the ELF64 build runs kernel_main in the higher half");
        try (KernelBoot boot = new KernelBoot(ElfImage.read(KernelSources.defaults().buildFirmware()),
                MultibootKernel.read(elf32), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertTrue(report.stages().stream().map(StageEvent::stage).anyMatch(BootStage.KMAIN::equals),
                    "stages: " + report.stages());
            assertEquals("kernel_main", boot.symbols().symbolize(kernelMain));
        }
    }
}
