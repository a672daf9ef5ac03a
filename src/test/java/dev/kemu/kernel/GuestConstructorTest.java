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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cache created by guest code with a guest constructor: kernel-asm/include/slab_ctor.inc's
 * kmem_cache_alloc runs it on every object of a new slab, so objects arrive constructed, the
 * constructor runs once per object and not per allocation, and a freed object keeps its state.
 */
class GuestConstructorTest {
    @TempDir
    Path dir;

    @Test
    void objectsArriveConstructed_onceEach_andKeepTheirStateAcrossFree() throws Exception {
        String body = """
                    push rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    pop rdi
                    push rbx
                    push r12
                    push r13
                    lea rdi, [rip + name]
                    mov esi, 48
                    mov edx, 16
                    lea r10, [rip + construct]
                    HYPERCALL HC_CACHE_CREATE
                    mov rbx, rax                        # cache id
                    mov rdi, rbx
                    xor esi, esi
                    call kmem_cache_alloc
                    mov r12, rax                        # first object
                    mov rdi, rbx
                    xor esi, esi
                    call kmem_cache_alloc
                    mov r13, rax                        # second object
                    mov r8, [r12]                       # the constructor's mark
                    mov r9, [r13]
                    mov r10, [rip + constructed]        # constructor calls so far: one slab's worth
                    mov qword ptr [r13 + 8], 0x77       # state the user changed
                    mov rdi, rbx
                    mov rsi, r13
                    HYPERCALL HC_CACHE_FREE
                    mov rdi, rbx
                    xor esi, esi
                    call kmem_cache_alloc
                    mov r11, rax                        # the freed object again (LIFO freelist)
                    mov r14, [rax + 8]                  # its state survived the free
                    mov r15, [rax]                      # and its constructed mark
                    mov rdx, [rip + constructed]        # no constructor call for a reused object
                    mov rdi, rbx
                    mov esi, ALLOC_ZERO
                    HYPERCALL HC_CACHE_ALLOC
                    mov rcx, rax                        # -EINVAL: zeroing would undo the constructor
                    sub r11, r13
                    pop r13
                    pop r12
                    pop rbx
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                .include "slab_ctor.inc"
                construct:                              # void construct(void *object)
                    movabs rax, 0xC0FFEE
                    mov [rdi], rax
                    mov qword ptr [rdi + 8], 0
                    inc qword ptr [rip + constructed]
                    ret
                .section .data
                constructed: .quad 0
                .section .rodata
                name: .asciz "guest-ctor"
                """;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, body), BootOptions.defaults())) {
            BootReport report = boot.run();

            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            long[] gprs = report.run().cpu().gprs();
            KernelMemory memory = boot.services().memory().orElseThrow();
            int perSlab = memory.slabs().info().stream().filter(row -> row.name().equals("guest-ctor")).findFirst()
                    .orElseThrow().objectsPerSlab();
            assertTrue(perSlab >= 8, "objects per slab " + perSlab);
            assertEquals(0xC0FFEE, gprs[8], "first object constructed");
            assertEquals(0xC0FFEE, gprs[9], "second object constructed");
            assertEquals(perSlab, gprs[10], "the constructor ran once per object of the new slab");
            assertEquals(0, gprs[11], "the freed object came back");
            assertEquals(0x77, gprs[14], "a freed object keeps its state");
            assertEquals(0xC0FFEE, gprs[15]);
            assertEquals(perSlab, gprs[2], "no constructor call on reuse");
            assertEquals(GuestAbi.EINVAL, gprs[1]);
            assertEquals(List.of(), memory.check());
        }
    }
}
