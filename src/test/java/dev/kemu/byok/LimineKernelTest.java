package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootModule;
import dev.kemu.boot.StageEvent;
import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.GuestRam;
import dev.kemu.testutil.GuestOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code limine64.elf}: a Limine-protocol kernel (requests written from PROTOCOL.md) that prints what its requests
 * received. QEMU cannot boot it with {@code -kernel} (it needs Limine itself on a disk image), so the reference is
 * the specification: the values are asserted against what kemu built and against the protocol's guarantees.
 */
class LimineKernelTest {
    private static final Pattern MEMMAP = Pattern.compile("limine64: memmap 0x(\\p{XDigit}+) 0x(\\p{XDigit}+) (\\d)");
    private static final int USABLE = 0, BOOTLOADER_RECLAIMABLE = 5, KERNEL_AND_MODULES = 6;

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("limine64.elf");
    }

    private KernelBoot boot(String commandLine, List<MultibootModule> modules) {
        return new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(), kernel()),
                BootOptions.defaults().withCommandLine(commandLine).withModules(modules));
    }

    private record Entry(long base, long length, int type) {
        long end() {
            return base + length;
        }
    }

    private static List<Entry> memoryMap(String console) {
        List<Entry> map = new ArrayList<>();
        Matcher m = MEMMAP.matcher(console);
        while (m.find()) {
            map.add(new Entry(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                    Integer.parseInt(m.group(3))));
        }
        return map;
    }

    @Test
    void boot_printsTheResponsesKemuBuilt_andExitsWithItsCode() throws Exception {
        Path module = Files.writeString(dir.resolve("initrd.txt"), "module contents\nsecond line\n");
        try (KernelBoot boot = boot("hello limine", List.of(new MultibootModule(module, "initrd")))) {
            assertEquals(BootProtocol.LIMINE, boot.protocol());
            BootReport report = boot.run();
            String console = report.console();
            long virtualBase = NmSymbols.of(kernel()).address("_text_start");
            assertTrue(console.startsWith(String.format("""
                    limine64: entered through the entry point request
                    limine64: base revision supported
                    limine64: bootloader kemu 0.1.0
                    limine64: hhdm 0x%x
                    limine64: kernel physical 0x%x
                    limine64: kernel virtual 0x%x
                    limine64: paging mode 0x0
                    limine64: stack size answered
                    limine64: smp answered
                    """, LimineKernel.HHDM_OFFSET, LimineKernel.PHYSICAL_BASE, virtualBase)), console);
            assertTrue(console.endsWith("""
                    limine64: module initrd size 28 text module contents
                    limine64: cmdline hello limine
                    limine64: done
                    """), console);
            assertEquals(Optional.empty(), report.failure());
            assertEquals(0x15, report.run().exitCode(), report.run().toString());
        }
    }

    @Test
    void memoryMap_keepsTheProtocolsGuarantees_andListsWhatKemuLoaded() {
        try (KernelBoot boot = boot("kemu", List.of())) {
            String console = boot.run().console();
            List<Entry> map = memoryMap(console);
            assertFalse(map.isEmpty(), console);
            for (int i = 1; i < map.size(); i++) {
                assertTrue(map.get(i - 1).base() < map.get(i).base(), "sorted by base: " + map);
            }
            for (Entry e : map) {
                if (e.type() == USABLE || e.type() == BOOTLOADER_RECLAIMABLE) {
                    assertEquals(0, (e.base() | e.length()) & 0xfff, "4 KiB aligned: " + e);
                    assertTrue(e.base() >= 0x1000 || e.type() != USABLE, "nothing usable below 0x1000: " + e);
                    for (Entry other : map) {
                        assertTrue(other == e || other.end() <= e.base() || other.base() >= e.end(),
                                e + " overlaps " + other);
                    }
                }
            }
            assertTrue(map.stream().anyMatch(e -> e.type() == KERNEL_AND_MODULES
                    && e.base() == LimineKernel.PHYSICAL_BASE), "the kernel's entry: " + map);
            // The stack is in bootloader-reclaimable memory, reached through the HHDM.
            Matcher rsp = Pattern.compile("limine64: rsp 0x(\\p{XDigit}+)").matcher(console);
            assertTrue(rsp.find(), console);
            long stack = Long.parseUnsignedLong(rsp.group(1), 16) - LimineKernel.HHDM_OFFSET;
            assertTrue(map.stream().anyMatch(e -> e.type() == BOOTLOADER_RECLAIMABLE && e.base() <= stack
                    && stack < e.end()), "RSP P0x" + Long.toHexString(stack) + " in " + map);
            long usable = map.stream().filter(e -> e.type() == USABLE).mapToLong(Entry::length).sum();
            assertTrue(usable > 60L << 20 && usable < 64L << 20, "usable bytes of 64 MiB: " + usable);
        }
    }

    @Test
    void entryState_isWhatTheProtocolSpecifies() {
        try (KernelBoot boot = boot("kemu", List.of())) {
            CpuState cpu = boot.runToKernelEntry().cpu();
            assertEquals(boot.kernel().entry(), cpu.rip());
            assertEquals(NmSymbols.of(kernel()).address("entry_by_request"), cpu.rip(), "the entry point request's");
            assertEquals(CpuState.CR0_PG | CpuState.CR0_WP | CpuState.CR0_PE,
                    cpu.cr0() & (CpuState.CR0_PG | CpuState.CR0_WP | CpuState.CR0_PE));
            assertTrue((cpu.cr4() & CpuState.CR4_PAE) != 0);
            assertTrue(cpu.longModeActive() && (cpu.efer() & CpuState.EFER_NXE) != 0, "EFER " + cpu.efer());
            assertEquals(0, cpu.rflags() & (1 << 9 | 1 << 10 | 1 << 17), "IF, DF, VM clear");
            for (int i = 0; i < cpu.gprs().length; i++) {
                assertEquals(i == 4 ? cpu.rsp() : 0, cpu.gprs()[i], "GPR " + i);
            }
            assertEquals(0x28, cpu.cs());
            assertEquals(0x30, cpu.ss());
            assertEquals(0xff8, cpu.rsp() & 0xfff, "RSP: a page-aligned stack top less the pushed return address");
            GuestRam ram = boot.machine().ram();
            assertEquals(0, ram.read64(cpu.rsp() - LimineKernel.HHDM_OFFSET), "the invalid return address 0");
            long gdt = cpu.gdtr().base() - LimineKernel.HHDM_OFFSET;
            assertEquals(7 * 8 - 1, cpu.gdtr().limit());
            long[] expected = {0, 0x00009a000000ffffL, 0x000092000000ffffL, 0x00cf9a000000ffffL, 0x00cf92000000ffffL,
                    0x00af9a000000ffffL, 0x00cf92000000ffffL};
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], ram.read64(gdt + 8L * i) & ~(1L << 40), "GDT entry " + i); // accessed bit
            }
            // The identity map (base revisions 0-2) from 0x1000, the HHDM and the kernel at its link address.
            assertEquals(-1, boot.machine().physical(0));
            assertEquals(0x1000, boot.machine().physical(0x1000));
            assertEquals(0x3ff_f000L, boot.machine().physical(LimineKernel.HHDM_OFFSET + 0x3ff_f000L));
            assertEquals(LimineKernel.PHYSICAL_BASE, boot.machine().physical(NmSymbols.of(kernel()).address("_text_start")));
        }
    }

    @Test
    void stageLines_sayTheKernelStartsInLongModeInTheHigherHalf_withoutWarnings() {
        try (KernelBoot boot = boot("kemu", List.of())) {
            BootReport report = boot.run();
            List<BootStage> stages = report.stages().stream().map(StageEvent::stage).toList();
            assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_64, BootStage.PAGING_ON,
                    BootStage.LONG_MODE, BootStage.HIGHER_HALF, BootStage.KMAIN), stages);
            report.stages().forEach(event -> assertTrue(event.violations().isEmpty(), event.line()));
            StageEvent entry = report.stage(BootStage.ENTRY_64).orElseThrow();
            assertTrue(entry.longModeCode());
            assertEquals(boot.kernel().entry(), entry.cpu().rip());
        }
    }

    @Test
    void unsupportedRequests_areLeftUnanswered_andNamedInOneNote() {
        try (KernelBoot boot = boot("kemu", List.of())) {
            List<String> notes = boot.loaderNotes();
            assertEquals(1, notes.size(), notes.toString());
            assertTrue(notes.getFirst().startsWith("Limine: unanswered requests (response left untouched): framebuffer "
                    + "at V0x"), notes.getFirst());
            assertFalse(notes.getFirst().contains("SMP"), notes.getFirst()); // answered (LimineSmpTest)
        }
    }

    @Test
    void writeToItsReadOnlyText_givesAFaultReportNamingTheLineAndThePte() {
        try (KernelBoot boot = boot("fault", List.of())) {
            BootReport report = boot.run();
            assertTrue(report.console().endsWith("limine64: writing to read-only .text\n"), report.console());
            assertEquals(1, report.faults().size(), report.faults().toString());
            String text = report.faults().getFirst().text();
            assertTrue(text.contains("at kmain+0x"), text);
            assertTrue(text.contains("(limine64.c:"), text);
            assertTrue(text.contains("write to a read-only page with CR0.WP set"), text);
            assertTrue(report.failure().orElseThrow().contains("in stage 'kmain'"), report.failure().toString());
        }
    }

    @Test
    void kemuBoot_namesTheProtocolInItsFirstLine_andExitsWithTheKernelsStatus() {
        GuestOutput run = KemuCommand.boot(kernel(), dir, "cli");
        assertEquals(0x15 << 1 | 1, run.exitStatus(), run::describe);
        assertTrue(run.toolOutput().contains("--- stdout ---\nkemu boot: " + kernel() + " (Limine protocol), "),
                run::describe);
        assertTrue(run.serial().contains("limine64: cmdline cli\r\n"), run::describe);
    }
}
