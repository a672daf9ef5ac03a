package dev.kemu.testing;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code run.whatis(addr)} on objects, tables and areas a guest snippet allocated through kemu's services. */
@ExtendWith(KemuExtension.class)
@MemoryDebug // none, also under make test-memdebug: these cases assert what whatis says without U (SlabObjectSitesTest: with)
class WhatIsTest {
    /** Two 100-byte kmallocs (kmalloc-128), the second freed, and one vmalloc page: rbx, r12, r13. */
    private static final String ALLOCATE = """
                mov edi, 100
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov rbx, rax
                mov edi, 100
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov r12, rax
                mov rdi, r12
                HYPERCALL HC_KFREE
                mov edi, 4096
                HYPERCALL HC_VMALLOC
                mov r13, rax
                mov qword ptr [r13 + 8], 7
            """;

    private static String line(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + label + ": (.*)$").matcher(out);
        assertTrue(m.find(), "no '" + label + ":' line in\n" + out);
        return m.group(1);
    }

    private static GuestRun allocate(Guest guest) {
        GuestRun run = guest.run(ALLOCATE);
        assertTrue(run.completed(), run.describe());
        return run;
    }

    @Test
    void allocatedKmallocObject_namesItsCacheIndexAndState(Guest guest) {
        GuestRun run = allocate(guest);
        long object = run.register(X86Reg.RBX);
        String out = run.whatis(object + 0x10);
        assertTrue(line(out, "frame").contains(", slab"), out);
        assertTrue(line(out, "owner").contains("of cache kmalloc-128 ("), out);
        Matcher m = Pattern.compile("index (\\d+) at V0x([0-9a-f]+) \\(P0x[0-9a-f]+\\), offset \\+0x10: allocated$")
                .matcher(line(out, "object"));
        assertTrue(m.matches(), out);
        assertEquals(object, Long.parseUnsignedLong(m.group(2), 16), out);
        assertTrue(line(out, "allocated at").startsWith("not recorded (the cache was created without --slub-debug=U)"), out);
        assertTrue(line(out, "region").contains("direct map of RAM"), out);
    }

    @Test
    void freedKmallocObject_isFreeAndOnTheFreelist(Guest guest) {
        GuestRun run = allocate(guest);
        long freed = run.register(X86Reg.R12);
        String object = line(run.whatis(freed), "object");
        // kfree pushes the object onto the front of its slab's freelist (LIFO, as SLUB).
        assertTrue(object.endsWith(": free (position 0 on the slab's freelist)"), object);
        long allocated = run.register(X86Reg.RBX);
        assertEquals(1, Math.abs(indexOf(run.whatis(freed)) - indexOf(run.whatis(allocated))), object);
    }

    private static int indexOf(String out) {
        Matcher m = Pattern.compile("^index (\\d+) ").matcher(line(out, "object"));
        assertTrue(m.find(), out);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void physicalAddressOfAnObject_givesTheSameObject(Guest guest) {
        GuestRun run = allocate(guest);
        long object = run.register(X86Reg.RBX);
        long pa = object - run.memory().root().directMapBase().value();
        String out = run.whatis(String.format("P0x%x", pa));
        assertEquals(String.format("V0x%x", object), line(out, "virtual").split(" ")[0], out);
        assertTrue(line(out, "object").endsWith("offset +0x0: allocated"), out);
    }

    @Test
    void vmallocAddress_isAVmallocFrameInTheVmallocArea(Guest guest) {
        GuestRun run = allocate(guest);
        long va = run.register(X86Reg.R13);
        String out = run.whatis(va + 8);
        assertTrue(line(out, "region").contains("vmalloc area [V0xffffc90000000000, "), out);
        assertTrue(line(out, "frame").endsWith(", vmalloc"), out);
        assertTrue(line(out, "vma").contains("vmalloc"), out);
        assertTrue(line(out, "physical").startsWith("P0x"), out);
    }

    @Test
    void pageTablePages_areNamedWithTheirLevelAndTheEntryThatReachesThem(Guest guest) {
        GuestRun run = allocate(guest);
        long va = run.register(X86Reg.R13);
        GuestRam ram = run.memory().root().ram();
        long pml4 = run.memory().root().pml4().value();
        long pdpt = ram.read64(pml4 + 8 * ((va >>> 39) & 511)) & PageTableEntry.ADDRESS_MASK;
        long pd = ram.read64(pdpt + 8 * ((va >>> 30) & 511)) & PageTableEntry.ADDRESS_MASK;
        long pt = ram.read64(pd + 8 * ((va >>> 21) & 511)) & PageTableEntry.ADDRESS_MASK;
        String top = run.whatis(String.format("P0x%x", pml4));
        assertTrue(line(top, "frame").endsWith(", page table"), top);
        assertTrue(line(top, "owner").startsWith(String.format("PML4 of the kernel's tables (PML4 P0x%x)", pml4)), top);
        String leaf = run.whatis(String.format("P0x%x", pt + 0x18));
        assertTrue(line(leaf, "owner").startsWith(String.format("PT (PD entry %d of the PD at P0x%x) of the kernel's tables",
                (va >>> 21) & 511, pd)), leaf);
        assertTrue(line(leaf, "owner").matches(".*, \\d+ present entries.*"), leaf);
    }

    @Test
    void kernelTextAddress_isInTextAndAKernelImageFrame(Guest guest) {
        GuestRun run = allocate(guest);
        String out = run.whatis("console_puts+0x2");
        assertEquals("console_puts+0x2", line(out, "symbol").split(" ")[0], out);
        assertTrue(line(out, "region").startsWith("kernel image section .text [V0x"), out);
        assertTrue(line(out, "frame").contains(", kernel image"), out);
        assertTrue(line(out, "owner").startsWith("the kernel image"), out);
    }

    @Test
    void unmappedAddress_saysWhereTheWalkStops(Guest guest) {
        GuestRun run = allocate(guest);
        String out = run.whatis(0x0000_0100_0000_0000L);
        assertTrue(line(out, "physical").startsWith("none: not mapped under CR3 P0x"), out);
        assertTrue(line(out, "physical").contains("PML4 entry 2 not present"), out);
        assertTrue(!out.contains("\nframe: "), out);
    }
}
