package dev.kemu.debug;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest code in one of kemu's address spaces: a resolved read (zero page) is counted by kind, a
 * write to a read-only VMA is reported naming the space and the handler's reason, text and JSON,
 * and the memory report lists the zones and the spaces.
 */
class SpaceFaultReportGuestTest {
    private static final String BODY = """
                push rdi
                movabs rsi, offset kernel_phys_start
                movabs rdx, offset kernel_phys_end
                HYPERCALL HC_MM_INIT
                pop rdi
                HYPERCALL HC_SPACE_CREATE
                mov r12, rax
                mov rdi, r12
                mov esi, 0x400000
                mov edx, 4096
                mov r10d, 4                        # U only: read-only
                HYPERCALL HC_SPACE_MAP
                mov cr3, r12
                mov r14, [0x400000]                # resolved: the zero page
                mov qword ptr [0x400000], 1        # a real #PF: the VMA is read-only
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @TempDir
    Path dir;

    @Test
    void writeToAReadOnlyVma_isReportedWithTheSpaceAndTheReason_andTheZeroPageReadIsCountedByKind() throws Exception {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, BODY), BootOptions.defaults())) {
            BootReport report = boot.run();

            assertEquals(1, report.faults().size(), report.run().detail() + report.faults());
            FaultReport fault = report.faults().getFirst();
            long pml4 = report.run().cpu().cr3() & 0x000f_ffff_ffff_f000L;
            String name = "space 1 of 1, PML4 P0x" + Long.toHexString(pml4);
            assertTrue(fault.text().contains("space     " + name + ": kemu's fault handler found the VMA's flags"
                    + " forbid the access"), fault.text());
            assertTrue(fault.json().contains("\"space\":{\"name\":\"" + name + "\",\"pml4\":\"0x"
                    + Long.toHexString(pml4) + "\",\"id\":"), fault.json());
            assertTrue(fault.json().contains("\"handler\":\"access_denied\""), fault.json());
            assertEquals("1 zero page mapped", boot.faults().resolvedFaults().summary());

            String memory = MemoryReport.of(boot.services().memory().orElseThrow());
            assertTrue(memory.matches("(?s).*--- zones ---\nzone DMA +\\d+ frames managed, +\\d+ free.*"), memory);
            assertTrue(memory.contains("zone DMA32 "), memory);
            assertTrue(memory.matches("(?s).*--- address spaces ---\nkernel address space: PML4 P0x\\p{XDigit}+\n"
                    + "space 1 of 1: id \\d+, PML4 P0x" + Long.toHexString(pml4) + ", 1 VMA\n.*"), memory);
        }
    }

    @Test
    void forkAndCopyOnWrite_areCountedByKind_andRaiseNoReport() throws Exception {
        String body = """
                    push rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    pop rdi
                    HYPERCALL HC_SPACE_CREATE
                    mov r12, rax
                    mov rdi, r12
                    mov esi, 0x400000
                    mov edx, 4096
                    mov r10d, 6                        # W | U
                    HYPERCALL HC_SPACE_MAP
                    mov rbx, cr3
                    mov cr3, r12
                    mov r8, [0x400000]                 # the zero page
                    mov qword ptr [0x400000], 0x11     # a zeroed frame of its own
                    mov cr3, rbx
                    mov rdi, r12
                    HYPERCALL HC_SPACE_CLONE
                    mov cr3, rax
                    mov qword ptr [0x400000], 0x22     # copy-on-write: the child's copy
                    mov cr3, r12
                    mov qword ptr [0x400000], 0x44     # the last reference: the parent takes its frame over
                    mov cr3, rbx
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, body), BootOptions.defaults())) {
            BootReport report = boot.run();

            assertEquals(java.util.List.of(), report.faults(), report.run().detail());
            assertEquals("1 zero-filled, 1 zero page mapped, 1 copy-on-write copy, 1 copy-on-write take-over",
                    boot.faults().resolvedFaults().summary());
            assertEquals(4, report.demandPagedFaults());
        }
    }
}
