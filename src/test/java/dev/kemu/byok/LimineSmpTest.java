package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.VirtAddr;
import dev.kemu.machine.smp.CpuState;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code liminesmp64.elf}: a Limine kernel that takes its APs from the SMP response and starts each by writing its
 * goto_address. No QEMU comparison (QEMU cannot boot a Limine kernel without Limine on a disk image): the console
 * is asserted against the response, the info structs and the AP slots kemu wrote into guest RAM, and the AP state
 * against PROTOCOL.md (RDI = its info struct, its own stack with a 0 return address, every other general-purpose
 * register 0, IF clear, the loader's page tables).
 */
class LimineSmpTest {
    private static final long HHDM = LimineKernel.HHDM_OFFSET;
    private static final int RESPONSE_OFFSET = 40, SLOT_BYTES = 24;
    private static final long STACK_BYTES = 64 * 1024;

    private static KernelBoot boot(int cpus, String commandLine) {
        return new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                TestKernelBuild.kernel("liminesmp64.elf")),
                BootOptions.defaults().withCpus(cpus).withCommandLine(commandLine));
    }

    /** The physical address of the SMP response kemu wrote into the kernel's request. */
    private static long response(KernelBoot boot) {
        LimineKernel kernel = (LimineKernel) boot.loadedKernel();
        long request = kernel.physical(VirtAddr.of(NmSymbols.of(TestKernelBuild.kernel("liminesmp64.elf"))
                .address("smp")));
        return boot.machine().ram().read64(request + RESPONSE_OFFSET) - HHDM;
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 4})
    void apsReportInThroughTheSmpResponse_withTheStateTheProtocolPromises(int cpus) {
        try (KernelBoot boot = boot(cpus, "")) {
            BootReport report = boot.run();
            GuestRam ram = boot.machine().ram();
            long response = response(boot), array = ram.read64(response + 24) - HHDM;
            long table = ram.read64(boot.symbols().address("fw_limine_ap_table"));
            StringBuilder expected = new StringBuilder(String.format("""
                    liminesmp64: hhdm 0x%x
                    liminesmp64: smp revision 0x0
                    liminesmp64: flags 0x0
                    liminesmp64: bsp_lapic_id 0
                    liminesmp64: cpu_count %d
                    """, HHDM, cpus));
            StringBuilder aps = new StringBuilder();
            long previousStackTop = 0;
            for (int i = 0; i < cpus; i++) {
                long info = ram.read64(array + 8L * i);
                expected.append(String.format("liminesmp64: cpu %d processor_id %d lapic_id %d info 0x%x goto 0x0%n",
                        i, i, i, info));
                if (i > 0) {
                    long slot = table + (long) SLOT_BYTES * (i - 1);
                    assertEquals(i, ram.read64(slot), "the slot's APIC ID");
                    assertEquals(info, ram.read64(slot + 8), "the slot's info struct is the response's");
                    long stackTop = ram.read64(slot + 16);
                    assertEquals(0, (stackTop - HHDM) % 4096, "a page-aligned stack top");
                    assertTrue(Math.abs(stackTop - previousStackTop) >= STACK_BYTES, "stacks of 64 KiB apart");
                    previousStackTop = stackTop;
                    aps.append(String.format("liminesmp64: AP processor_id %d lapic_id %d argument %d rsp 0x%x "
                            + "return 0x0 registers 0x0 if 0 cr3 the BSP's%n", i, i, 100 + i, stackTop - 8));
                }
            }
            expected.append(aps).append("liminesmp64: APs reported ").append(cpus - 1).append('\n');
            assertEquals(expected.toString(), report.console());
            assertEquals(Optional.empty(), report.failure());
            assertEquals(0x15, report.run().exitCode(), report.run().toString());
            for (int i = 1; i < cpus; i++) {
                assertEquals(CpuState.HALTED, boot.cpus().state(i), "cpu" + i + " halts after counting itself in");
            }
            assertFalse(boot.loaderNotes().stream().anyMatch(n -> n.contains("SMP")), boot.loaderNotes().toString());
        }
    }

    @Test
    void withoutAGotoAddress_theApsStaySpinningInTheFirmwaresParkingLoop() {
        try (KernelBoot boot = boot(4, "parked")) {
            BootReport report = boot.run();
            assertTrue(report.console().endsWith("liminesmp64: the APs stayed parked\n"), report.console());
            assertEquals(0x17, report.run().exitCode(), report.run().toString());
            long loop = boot.symbols().address("fw_limine_ap_parked"), jump = boot.symbols().address("fw_limine_ap_goto");
            for (int i = 1; i < 4; i++) {
                assertEquals(CpuState.RUNNING, boot.cpus().state(i));
                long rip = boot.cpus().machine(i).register(X86Reg.RIP);
                assertTrue(rip >= loop && rip < jump, String.format("cpu%d at 0x%x, outside the parking loop", i, rip));
                assertEquals(0x2, boot.cpus().machine(i).register(X86Reg.RFLAGS) & 0x602, "IF and DF clear");
            }
            assertEquals(4, boot.machine().ram().read64(response(boot) + 16), "cpu_count");
        }
    }

    @Test
    void runToKernelEntry_withApsToPark_saysTheBootstrapCpuCannotGetThereAlone() {
        try (KernelBoot boot = boot(2, "")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, boot::runToKernelEntry);
            assertEquals("runToKernelEntry runs the bootstrap CPU alone, but with 2 CPUs and an SMP request the "
                    + "firmware waits for the APs to park before the Limine entry; use run() or boot with one CPU",
                    e.getMessage());
        }
        try (KernelBoot boot = boot(1, "")) {
            assertEquals(boot.loadedKernel().image().entry(), boot.runToKernelEntry().cpu().rip());
        }
    }
}
