package dev.kemu.kernel;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.PhysicalMemory;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guest code calling the memory services through the hypercall ABI, in a booted kernel. */
class GuestMemoryServicesTest {
    @TempDir
    Path dir;

    @Test
    void kmainDemo_exercisesEveryService_andLeavesConsistentMetadata() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertTrue(report.succeeded(), report.failure().orElse("") + "\n" + report.console());
            String console = report.console();
            for (String step : List.of("frame_alloc(order 2, zeroed) 0x", "frame_free 0x0000000000000000",
                    "kmalloc(24) 0xffff8000", "kzalloc(10000) 0xffff8000", "kfree both 0x0000000000000000",
                    "kfree again (must be -22) -22\n", "kmem_cache_create(kmain-objs, 48, 16) 10\n",
                    "kmem_cache_alloc 0xffff8000", "kmem_cache_free + destroy 0x0000000000000000",
                    "vmalloc(12 KiB) 0xffffc90000000000", "vfree 0x0000000000000000", "vmmap + translate 0x",
                    "protect + vmunmap 0x")) {
                assertTrue(console.contains("mm: " + step), "missing step '" + step + "' in:\n" + console);
            }
            KernelMemory memory = boot.services().memory().orElseThrow();
            assertEquals(List.of(), memory.check());
            Matcher frames = Pattern.compile("mm: free frames (\\d+)\n").matcher(console);
            assertTrue(frames.find());
            assertTrue(frames.find());
            assertEquals(memory.root().freeFrames(), Long.parseLong(frames.group(1)));

            List<InvalidFree> refused = boot.services().invalidFrees();
            assertEquals(1, refused.size());
            assertEquals("kfree", refused.get(0).call());
            assertEquals(FreeResult.DOUBLE_FREE, refused.get(0).result());
            assertTrue(refused.get(0).ripSymbol().startsWith("mm_demo+0x"), refused.get(0).toString());
        }
    }

    @Test
    void physicalMap_afterBoot_typesKernelImageBootDataTablesAndMetadata() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            boot.run();
            List<PhysRange> map = PhysicalMemory.map(boot.services().memory().orElseThrow().root());
            long kernelStart = boot.symbols().address("kernel_phys_start");
            assertTrue(map.stream().anyMatch(r -> r.type() == FrameType.KERNEL_IMAGE && r.start().value() == kernelStart), map.toString());
            assertTrue(map.stream().anyMatch(r -> r.type() == FrameType.BOOT && r.start().value() == 0x7000), map.toString());
            // The live tables are page tables: the kernel's PML4 (CR3) and boot.S's higher-half PD it
            // shares. boot.S's PML4 is dead once the kernel dropped the identity map: kernel image.
            long kernelPml4 = boot.symbols().address("kernel_pml4") - GuestAbi.KERNEL_VMA;
            long bootPd = boot.symbols().address("boot_pd");
            for (long table : new long[]{kernelPml4, bootPd}) {
                assertTrue(map.stream().anyMatch(r -> r.type() == FrameType.PAGE_TABLE && r.start().value() <= table
                        && table < r.end().value()), "P0x" + Long.toHexString(table) + " typed as a page table: " + map);
            }
            long bootPml4 = boot.symbols().address("boot_pml4");
            assertTrue(map.stream().anyMatch(r -> r.type() == FrameType.KERNEL_IMAGE && r.start().value() <= bootPml4
                    && bootPml4 < r.end().value()), "the unused boot PML4 is plain kernel image: " + map);
            assertTrue(map.stream().anyMatch(r -> r.type() == FrameType.MM_METADATA), map.toString());
        }
    }

    private BootReport runGuest(String body) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, body), BootOptions.defaults())) {
            return boot.run();
        }
    }

    /** Stores rax into r12..r15 in turn, then exits; the test reads the registers. */
    private static final String EXIT = """
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @Test
    void badArguments_andCallsBeforeInit_getErrnoResults() {
        BootReport report = runGuest("""
                    push rdi
                    mov edi, 24
                    HYPERCALL HC_KMALLOC
                    mov r12, rax                 # before mm_init: -ENODEV
                    pop rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    mov rbx, rax                 # 0
                    mov edi, 55
                    xor esi, esi
                    HYPERCALL HC_CACHE_ALLOC
                    mov r13, rax                 # no such cache: -EINVAL
                    mov edi, 99
                    HYPERCALL 63
                    mov r14, rax                 # unknown service: -ENOSYS
                    lea rdi, [rip + name]
                    mov esi, 32
                    xor edx, edx
                    mov r10d, 0x1000             # a constructor outside the kernel image
                    HYPERCALL HC_CACHE_CREATE
                    mov r15, rax                 # -EINVAL
                """ + EXIT + """
                .section .rodata
                name: .asciz "with-ctor"
                """);
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
        var cpu = report.run().cpu();
        assertEquals(0, cpu.rbx());
        assertEquals(GuestAbi.ENODEV, cpu.gprs()[12]);
        assertEquals(GuestAbi.EINVAL, cpu.gprs()[13]);
        assertEquals(GuestAbi.ENOSYS, cpu.gprs()[14]);
        assertEquals(GuestAbi.EINVAL, cpu.gprs()[15]);
    }

    @Test
    void outOfMemory_isAnErrnoTheGuestSees_andTheSystemStaysUsable() {
        BootReport report = runGuest("""
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    mov edi, 128 << 20           # more than the machine has
                    HYPERCALL HC_VMALLOC
                    mov r12, rax                 # -ENOMEM
                    mov edi, 11                  # order 11: beyond the buddy allocator
                    xor esi, esi
                    HYPERCALL HC_FRAME_ALLOC
                    mov r13, rax                 # -EINVAL
                    mov edi, 8 << 20             # order 11 worth of pages for kmalloc
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov r14, rax                 # -ENOMEM
                    mov edi, 64
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov r15, rax                 # still works
                """ + EXIT);
        var cpu = report.run().cpu();
        assertEquals(GuestAbi.ENOMEM, cpu.gprs()[12]);
        assertEquals(GuestAbi.EINVAL, cpu.gprs()[13]);
        assertEquals(GuestAbi.ENOMEM, cpu.gprs()[14]);
        assertTrue(Long.compareUnsigned(cpu.gprs()[15], 0xffff_8000_0000_0000L) >= 0, Long.toHexString(cpu.gprs()[15]));
    }
}
