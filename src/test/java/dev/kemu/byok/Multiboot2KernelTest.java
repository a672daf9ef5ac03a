package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.boot.MultibootModule;
import dev.kemu.boot.StageEvent;
import dev.kemu.testutil.GuestOutput;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mb2info32.elf} (and the same code as an ELF64 file): a Multiboot 2 kernel that prints every information tag
 * it receives. QEMU's {@code -kernel} speaks Multiboot 1 only and a GRUB-free comparison is not possible, so the
 * lines are asserted against the memory map, loader name, modules and command line kemu hands over.
 */
class Multiboot2KernelTest {
    private static final long RAM = BootOptions.DEFAULT_RAM;

    @TempDir
    Path dir;

    private static Path kernel(String name) {
        return TestKernelBuild.kernel(name);
    }

    /** The lines the kernel prints for what kemu gives it: the PC memory map, in the order kemu writes the tags. */
    private static String expectedConsole(String commandLine, List<String> modules) {
        StringBuilder out = new StringBuilder();
        out.append("mb2: cmdline ").append(commandLine).append('\n');
        out.append("mb2: loader ").append(MultibootInfo.LOADER_NAME).append('\n');
        modules.forEach(line -> out.append("mb2: module ").append(line).append('\n'));
        List<MemoryMapEntry> map = MultibootInfo.pcMemoryMap(RAM);
        out.append("mb2: meminfo lower 639 upper ").append((MultibootInfo.usableEnd(map) - 0x100000) / 1024).append('\n');
        for (MemoryMapEntry e : map) {
            out.append(String.format("mb2: mmap 0x%x 0x%x %d%n", e.base(), e.length(), e.type()));
        }
        out.append("mb2: acpi new rsdp RSD PTR  oem KEMU   revision 2\n"); // the RSDP of kemu's ACPI tables
        return out.append("mb2: end\n").toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"mb2info32.elf", "mb2info32.elf64"})
    void boot_printsTheTagsKemuWrote_andExitsWithTheirCount(String image) throws Exception {
        Path module = Files.writeString(dir.resolve("mod.txt"), "first line\nsecond\n");
        BootOptions options = BootOptions.defaults().withCommandLine("root=/dev/mb2 quiet")
                .withModules(List.of(new MultibootModule(module, "mod-one")));
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel(image)), options)) {
            assertEquals(BootProtocol.MULTIBOOT2, boot.protocol());
            BootReport report = boot.run();
            String console = report.console();
            String tags = console.substring(console.indexOf('\n') + 1);
            assertEquals(expectedConsole("root=/dev/mb2 quiet", List.of("mod-one text first line")), tags);
            assertTrue(console.startsWith("mb2: total size "), console);
            assertEquals(Optional.empty(), report.failure());
            assertEquals(7, report.run().exitCode(), "tags: cmdline, name, module, meminfo, mmap, ACPI new RSDP, end");
        }
    }

    @Test
    void entry_isThe32BitStateWithTheMultiboot2Magic_andStageLinesHaveNoWarnings() {
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel("mb2info32.elf")), BootOptions.defaults())) {
            var cpu = boot.runToKernelEntry().cpu();
            assertEquals(0x36d76289L, boot.machine().register(X86Reg.EAX));
            long info = boot.machine().register(X86Reg.EBX);
            assertEquals(0, info & 7, "the information structure is 8-byte aligned");
            assertEquals(0, boot.machine().ram().read32(info + 4), "reserved");
            assertTrue(cpu.protectedMode() && !cpu.pagingEnabled() && !cpu.longModeActive());
            assertEquals(0, cpu.rflags() & (1 << 9 | 1 << 17), "IF and VM clear");
        }
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel("mb2info32.elf")), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32, BootStage.KMAIN),
                    report.stages().stream().map(StageEvent::stage).toList());
            report.stages().forEach(event -> assertTrue(event.violations().isEmpty(), event.line()));
        }
    }

    @Test
    void framebufferTag_givesANote_andTheAcpiRequestIsAnswered() {
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel("mb2info32.elf")), BootOptions.defaults())) {
            assertEquals(List.of("the Multiboot 2 header asks for a framebuffer (tag 5); kemu has no display, so the "
                    + "kernel gets no framebuffer information tag"),
                    boot.loaderNotes());
        }
    }

    @Test
    void kemuBoot_namesTheProtocol_andForcingMultiboot1FailsClearly() {
        GuestOutput run = KemuCommand.boot(kernel("mb2info32.elf"), dir, "cli");
        assertEquals(6 << 1 | 1, run.exitStatus(), run::describe); // six tags without a module
        assertTrue(run.toolOutput().contains("kemu boot: " + kernel("mb2info32.elf") + " (Multiboot 2), "),
                run::describe);
        GuestOutput forced = KemuCommand.boot(kernel("mb2info32.elf"), dir, "cli", "--protocol", "multiboot");
        assertTrue(forced.toolOutput().contains(": not a Multiboot image: no Multiboot header"), forced::describe);
    }
}
