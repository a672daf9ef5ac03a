package dev.kemu.kernel;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Guest code creating, switching (by writing CR3), cloning and destroying address spaces through
 * the hypercall ABI: the real CPU's page faults go to the space CR3 selects, and copy-on-write
 * keeps a child's write out of its parent.
 */
class AddressSpacesGuestTest {
    private static final String MM_INIT = """
                push rdi
                movabs rsi, offset kernel_phys_start
                movabs rdx, offset kernel_phys_end
                HYPERCALL HC_MM_INIT
                pop rdi
            """;
    private static final String EXIT = """
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @TempDir
    Path dir;

    @Test
    void forkStyleClone_underTheRealCpu_keepsTheChildsWriteOutOfTheParent() throws Exception {
        String body = """
                    push rbx
                    push r12
                    push r13
                    HYPERCALL HC_SPACE_CREATE
                    mov r12, rax                       # the parent space: its PML4, the value for CR3
                    mov rdi, r12
                    mov esi, 0x400000
                    mov edx, 4 * 4096
                    mov r10d, 6                        # W | U
                    HYPERCALL HC_SPACE_MAP
                    mov r15, rax                       # 0
                    mov rbx, cr3                       # the kernel's tables
                    mov cr3, r12
                    mov r8, [0x400000]                 # read fault: the zero page
                    mov qword ptr [0x400000], 0x11     # write fault: a zeroed frame of its own
                    mov qword ptr [0x401000], 0x33
                    mov cr3, rbx
                    mov rdi, r12
                    HYPERCALL HC_SPACE_CLONE
                    mov r13, rax                       # the child
                    mov cr3, r13
                    mov r9, [0x401000]                 # shared page, read without a fault
                    mov qword ptr [0x400000], 0x22     # copy-on-write: the child gets a copy
                    mov r10, [0x400000]
                    mov cr3, r12
                    mov r11, [0x400000]                # the parent still sees its own value
                    mov qword ptr [0x400000], 0x44     # last reference: the parent takes its frame back
                    mov cr3, rbx
                    mov rdi, r12
                    HYPERCALL HC_SPACE_DESTROY
                    mov r14, rax
                    mov rdi, r13
                    HYPERCALL HC_SPACE_DESTROY
                    add r14, rax
                    mov rdi, r13
                    HYPERCALL HC_SPACE_DESTROY         # already gone: -EINVAL
                    mov rdx, rax
                    pop r13
                    pop r12
                    pop rbx
                """ + EXIT;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, MM_INIT + body), BootOptions.defaults())) {
            BootReport report = boot.run();

            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            long[] gprs = report.run().cpu().gprs();
            assertEquals(0, gprs[15], "HC_SPACE_MAP");
            assertEquals(0, gprs[8], "an untouched page reads zero");
            assertEquals(0x33, gprs[9], "the child reads the parent's page");
            assertEquals(0x22, gprs[10], "the child reads its own write");
            assertEquals(0x11, gprs[11], "the parent does not see the child's write");
            assertEquals(0, gprs[14], "both destroys");
            assertEquals(GuestAbi.EINVAL, gprs[2], "destroy of a destroyed space");
            assertEquals(List.of(), report.faults(), "every fault was resolved");
            KernelMemory memory = boot.services().memory().orElseThrow();
            assertEquals(List.of(), memory.spaces().all());
            assertEquals(List.of(), memory.check());
        }
    }

    @Test
    void destroyOfTheSpaceInCr3_isBusy_andAWriteToAReadOnlyVma_isARealFault() throws Exception {
        String body = """
                    push rbx
                    push r12
                    HYPERCALL HC_SPACE_CREATE
                    mov r12, rax
                    mov rdi, r12
                    mov esi, 0x400000
                    mov edx, 4096
                    mov r10d, 4                        # U only: read-only
                    HYPERCALL HC_SPACE_MAP
                    mov rbx, cr3
                    mov cr3, r12
                    mov rdi, r12
                    HYPERCALL HC_SPACE_DESTROY
                    mov r13, rax                       # -EBUSY: CR3 selects it
                    mov r14, [0x400000]                # resolved: zero page
                    mov qword ptr [0x400000], 1        # a real #PF: the VMA is read-only
                    mov cr3, rbx
                    pop r12
                    pop rbx
                """ + EXIT;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, MM_INIT + body), BootOptions.defaults())) {
            BootReport report = boot.run();

            long[] gprs = report.run().cpu().gprs();
            assertEquals(GuestAbi.EBUSY, gprs[13]);
            assertEquals(0, gprs[14]);
            assertEquals(1, report.faults().size(), report.run().detail() + report.faults());
            assertEquals(14, report.faults().getFirst().vector());
            assertEquals(0x3, report.faults().getFirst().errorCode() & 0x7, "present, write, supervisor");
            assertEquals(dev.kemu.kernel.mm.SpaceFault.Resolution.ACCESS_DENIED,
                    boot.services().memory().orElseThrow().spaces().lastFault().orElseThrow().resolution());
        }
    }
}
