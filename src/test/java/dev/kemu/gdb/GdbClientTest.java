package dev.kemu.gdb;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real gdb (Debian's gdb 13) against the stub, as a kernel developer drives it. */
class GdbClientTest {
    /** kmain: two stores to a watched quadword, then a store to an unmapped address. */
    private static final String KMAIN = """
                lea rax, [rip + watched]
                mov qword ptr [rax], 0x1111
                mov qword ptr [rax], 0x2222
            bad_store:
                movabs rbx, 0xffff900000000000
                mov qword ptr [rbx], 3
                hlt
            .section .data
            .global watched
            watched: .quad 0
            """;

    @TempDir
    static Path dir;
    private static KernelSources.BuiltImages images;

    @BeforeAll
    static void build() throws Exception {
        GdbBatch.assumeGdbInstalled();
        images = TestKernels.withKmain(dir, KMAIN);
    }

    @Test
    void oneSession_stepsThroughEveryModeSwitch_fromThe32BitEntryToKmain() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images)) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    break _start
                    continue
                    printf "entry cr0=%#lx efer=%#lx\\n", $cr0, $efer
                    break boot_paging_on
                    continue
                    while $pc != (long) long_mode_entry
                    stepi
                    end
                    printf "long mode cr0=%#lx cr4=%#lx efer=%#lx cs=%#x\\n", $cr0, $cr4, $efer, $cs
                    break higher_half_entry
                    continue
                    stepi
                    printf "higher half pc=%#lx\\n", $pc
                    break kmain
                    continue
                    printf "kmain pc=%#lx cr3=%#lx\\n", $pc, $cr3
                    x/2gx &watched
                    """);
            long entryCr0 = hex(out, "entry cr0=(0x[0-9a-f]+)");
            assertEquals(1, entryCr0 & 1, "protected mode at the Multiboot entry: " + out);
            assertEquals(0, entryCr0 & (1L << 31), "paging off at the Multiboot entry: " + out);
            long efer = hex(out, "long mode cr0=0x[0-9a-f]+ cr4=0x[0-9a-f]+ efer=(0x[0-9a-f]+)");
            assertEquals(0x500, efer & 0x500, "stepped into long mode: LME and LMA set: " + out);
            assertTrue(hex(out, "higher half pc=(0x[0-9a-f]+)") < 0, "RIP in the higher half: " + out);
            assertEquals(stubSymbol("kmain"), hex(out, "kmain pc=(0x[0-9a-f]+)"), out);
            assertTrue(!out.contains("packet reply is too long") && !out.contains("Remote connection closed"), out);
        }
    }

    @Test
    void watchpointOnAVirtualAddress_stopsAfterEachStore_withOldAndNewValues() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images)) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    break kmain
                    continue
                    watch *(long *) &watched
                    continue
                    continue
                    printf "after second pc=%#lx\\n", $pc
                    """);
            assertTrue(out.contains("Hardware watchpoint 2"), out);
            assertTrue(out.matches("(?s).*Old value = 0\\s+New value = 4369.*"), out);
            assertTrue(out.matches("(?s).*Old value = 4369\\s+New value = 8738.*"), out);
            assertEquals(stubSymbol("bad_store"), hex(out, "after second pc=(0x[0-9a-f]+)"),
                    "stopped right after the store that hit: " + out);
        }
    }

    @Test
    void pageFault_stopsWithSigsegvAtTheFaultingInstruction_andMonitorFaultExplainsIt() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images)) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    continue
                    printf "fault pc=%#lx\\n", $pc
                    monitor fault
                    monitor explain 0xffff900000000000
                    x/i $pc
                    """);
            assertTrue(out.contains("Program received signal SIGSEGV"), out);
            assertEquals(stubSymbol("bad_store") + 10, hex(out, "fault pc=(0x[0-9a-f]+)"),
                    "the store after the 10-byte movabs: " + out);
            assertTrue(out.contains("0xffff900000000000") && out.toLowerCase().contains("page fault"), out);
            assertTrue(out.contains("PML4"), "monitor explain shows the walk: " + out);
            assertTrue(Pattern.compile("PML4 P0x[0-9a-f]+\\[288] @ P0x[0-9a-f]+: (last written by \\S+ at instruction"
                    + " [0-9,]+: 8 bytes at P0x[0-9a-f]+, 0x[0-9a-f]+ -> 0x0|never written)").matcher(out).find(),
                    "monitor fault says who last wrote the PML4 entry where the walk stopped: " + out);
        }
    }

    @Test
    void memoryWrittenByGdb_isWhatTheGuestReads() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images)) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    break bad_store
                    continue
                    set var *(long *) &watched = 0x5a5a
                    printf "watched=%#lx\\n", *(long *) &watched
                    monitor tlb
                    monitor gdt
                    """);
            assertEquals(0x5a5a, hex(out, "watched=(0x[0-9a-f]+)"), out);
            long physical = stub.boot().machine().physical(stubSymbol("watched"));
            assertEquals(0x5a5a, stub.boot().machine().ram().read64(physical), "written through the page tables");
            assertTrue(out.contains("V0xffffffff80000000"), "monitor tlb lists the kernel's mapping: " + out);
            assertTrue(out.contains("code 64-bit"), "monitor gdt decodes the long-mode code segment: " + out);
        }
    }

    @Test
    void reverseStepi_backOverAStore_showsTheOldValue_andMonitorLastWriteNamesTheStore() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images)) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    break bad_store
                    continue
                    printf "at end watched=%#lx\\n", *(long *) &watched
                    reverse-stepi
                    printf "one back watched=%#lx\\n", *(long *) &watched
                    monitor last-write watched
                    reverse-stepi
                    printf "two back watched=%#lx\\n", *(long *) &watched
                    stepi
                    stepi
                    printf "forward again watched=%#lx\\n", *(long *) &watched
                    """);
            assertEquals(0x2222, hex(out, "at end watched=(0x[0-9a-f]+)"), out);
            assertEquals(0x1111, hex(out, "one back watched=(0x[0-9a-f]+)"), out);
            assertTrue(out.contains("two back watched=0"), out);
            assertTrue(out.contains("kmain+0x") && out.contains("0x0 -> 0x1111"), "the first store wrote 0x1111 over 0: " + out);
            assertEquals(0x2222, hex(out, "forward again watched=(0x[0-9a-f]+)"), out);
        }
    }

    private static long stubSymbol(String name) {
        try (var boot = new dev.kemu.boot.KernelBoot(images, dev.kemu.boot.BootOptions.defaults())) {
            return boot.symbols().address(name);
        }
    }

    private static long hex(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return Long.parseUnsignedLong(m.group(1).substring(2), 16);
    }
}
