package dev.kemu.boot.acpi;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.machine.smp.CpuState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A boot with --cpus 2: the loader's tables are in reserved RAM the kernel does not use, and the kernel still boots. */
class BootedAcpiTest {
    @Test
    void aTwoCpuBoot_hasAMadtWithTwoLocalApics_inRangesTheKernelsMemoryMapReserves() {
        try (KernelBoot boot = new KernelBoot(KernelSources.defaults().build(), BootOptions.defaults().withCpus(2))) {
            AcpiReader reader = new AcpiReader(boot.machine().ram());
            AcpiReader.Rsdp rsdp = reader.findRsdp().orElseThrow();
            assertEquals(boot.acpi().rsdp().value(), rsdp.address());
            AcpiReader.Madt madt = reader.madt(reader.entries(rsdp.xsdt(), "XSDT", 8).getFirst());
            assertEquals(2, madt.entries().stream().filter(e -> e.type() == 0).count());
            List<MemoryMapEntry> map = MultibootInfo.readMemoryMap(boot.machine().ram());
            for (long table : new long[]{rsdp.address(), rsdp.rsdt(), rsdp.xsdt(), boot.acpi().madt().value()}) {
                assertTrue(map.stream().anyMatch(e -> e.type() == MemoryMapEntry.RESERVED && e.base() <= table && table < e.end()),
                        String.format("P0x%x reserved in %s", table, map));
                assertTrue(table >= boot.kernel().physicalEnd() || table < 0x100000, "above the kernel or below 1 MiB");
            }
            assertEquals(CpuState.WAIT_FOR_STARTUP, boot.cpus().state(1));
            BootReport report = boot.run();
            assertTrue(report.failure().isEmpty(), report.failure().orElse(""));
        }
    }
}
