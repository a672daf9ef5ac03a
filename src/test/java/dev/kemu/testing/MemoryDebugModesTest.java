package dev.kemu.testing;

import dev.kemu.kernel.kasan.KasanReport;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlubDebug;
import dev.kemu.kernel.slab.SlubReport;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 17: {@link MemoryDebug} boots the class's machine with --slub-debug / --kasan; runs report per test. */
class MemoryDebugModesTest {
    /** p = kmalloc(32); p[32] = 'A' (one past the end); kfree(p). */
    static final String OFF_BY_ONE_WRITE_THEN_KFREE = """
                mov edi, 32
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov rbx, rax
                mov byte ptr [rbx + 32], 0x41
                mov rdi, rbx
                HYPERCALL HC_KFREE
                xor eax, eax
            """;

    /** p = kmalloc(32); kfree(p); read p[8..15]. */
    static final String READ_AFTER_KFREE = """
                mov edi, 32
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov rbx, rax
                mov qword ptr [rbx], 1
                mov rdi, rbx
                HYPERCALL HC_KFREE
                mov rcx, qword ptr [rbx + 8]
                xor eax, eax
            """;

    /** Allocates, uses every byte in bounds, frees: nothing to report under any mode. */
    static final String CLEAN = """
                mov edi, 32
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov rbx, rax
                mov qword ptr [rbx], 1
                mov qword ptr [rbx + 24], 2
                mov al, byte ptr [rbx + 31]
                mov rdi, rbx
                HYPERCALL HC_KFREE
                xor eax, eax
            """;

    static GuestRun completed(Guest guest, String code) {
        GuestRun run = guest.run(code);
        assertTrue(run.completed(), run.describe());
        return run;
    }

    /** The debug flag bits of the cache called {@code name} in guest RAM. */
    static int debugFlags(KernelMemory memory, String name) {
        return KmemCache.of(memory.root(), cacheId(memory, name)).debugFlags();
    }

    static int cacheId(KernelMemory memory, String name) {
        for (int id = 0; id < KmemCache.describable(memory.root()); id++) {
            KmemCache cache = KmemCache.of(memory.root(), id);
            if (cache.active() && cache.name().equals(name)) {
                return id;
            }
        }
        throw new AssertionError("no cache " + name);
    }

    @Nested
    @ExtendWith(KemuExtension.class)
    @MemoryDebug(slub = "FZPU")
    class SlubDebugOn {
        @Test
        void offByOneWriteThenKfree_isARightRedzoneReport(Guest guest) {
            GuestRun run = completed(guest, OFF_BY_ONE_WRITE_THEN_KFREE);
            List<SlubReport> reports = run.slubReports();
            assertEquals(1, reports.size(), reports.toString());
            SlubReport report = reports.getFirst();
            assertEquals("kmalloc-32", report.cache());
            assertEquals("Right Redzone overwritten", report.reason());
            assertTrue(report.text().contains(String.format("INFO: 0x%x-0x%x @offset=", report.object() + 32,
                    report.object() + 32)) && report.text().contains("First byte 0x41 instead of 0xcc"), report.text());
            assertTrue(run.kasanReports().isEmpty(), "no --kasan on this machine");

            AssertionError failure = assertThrows(AssertionError.class, run::assertNoMemoryErrors);
            assertTrue(failure.getMessage().startsWith("memory errors: 1 SLUB debug report(s), 0 KASAN report(s)\n"),
                    failure.getMessage());
            assertTrue(failure.getMessage().contains("BUG kmalloc-32 (Not tainted): Right Redzone overwritten\n"),
                    failure.getMessage());
        }

        @Test
        void overwrittenRedzoneOfALiveObject_isFoundByTheEndOfRunValidation(Guest guest) {
            GuestRun run = completed(guest, """
                        mov edi, 32
                        xor esi, esi
                        HYPERCALL HC_KMALLOC
                        mov [rip + kept], rax
                        mov byte ptr [rax + 33], 0x42
                        xor eax, eax
                        jmp done
                        .balign 8
                    kept: .quad 0
                    done:
                    """);
            assertEquals(List.of("Right Redzone overwritten"), run.slubReports().stream().map(SlubReport::reason).toList());
        }

        @Test
        void reportsAreThoseOfTheRun_theNextRunStartsClean(Guest guest) {
            assertEquals(1, completed(guest, OFF_BY_ONE_WRITE_THEN_KFREE).slubReports().size());
            GuestRun clean = completed(guest, CLEAN);
            assertEquals(List.of(), clean.slubReports());
            clean.assertNoMemoryErrors();
        }

        @Test
        void theKmallocCachesCarryTheModes(Guest guest) {
            GuestRun run = completed(guest, "nop");
            assertEquals(SlubDebug.ALL, debugFlags(run.memory(), "kmalloc-32"));
        }
    }

    @Nested
    @ExtendWith(KemuExtension.class)
    @MemoryDebug(kasan = true)
    class KasanOn {
        @Test
        void readAfterKfree_isASlabUseAfterFree_withItsFields(Guest guest) {
            GuestRun run = completed(guest, READ_AFTER_KFREE);
            List<KasanReport> reports = run.kasanReports();
            assertEquals(1, reports.size(), reports.toString());
            KasanReport report = reports.getFirst();
            assertEquals("slab-use-after-free", report.kind());
            assertFalse(report.write());
            assertEquals(8, report.size());
            assertEquals(8, report.offset());
            assertEquals(report.object() + 8, report.address());
            assertEquals(32, report.objectSize());
            assertEquals("kmalloc-32", report.region());
            long code = guest.machine().codeAddress();
            assertTrue(report.rip() > code && report.rip() < code + TestMachine.CODE_SIZE,
                    "reported at the snippet's read: " + Long.toHexString(report.rip()));
            assertFalse(report.allocSite().isEmpty(), "alloc site recorded (kasan turns on U)");
            assertFalse(report.freeSite().isEmpty(), "free site recorded");
            assertTrue(report.text().startsWith("=".repeat(66) + "\nBUG: KASAN: slab-use-after-free in "), report.text());

            AssertionError failure = assertThrows(AssertionError.class, run::assertNoMemoryErrors);
            assertTrue(failure.getMessage().contains("BUG: KASAN: slab-use-after-free in "), failure.getMessage());
            assertTrue(failure.getMessage().contains(String.format("Read of size 8 at addr %x by task", report.address())),
                    failure.getMessage());
        }

        @Test
        void reportsAreThoseOfTheRun_theNextRunStartsClean(Guest guest) {
            assertEquals(1, completed(guest, READ_AFTER_KFREE).kasanReports().size());
            GuestRun clean = completed(guest, CLEAN);
            assertEquals(List.of(), clean.kasanReports());
            clean.assertNoMemoryErrors();
            assertEquals(1, completed(guest, READ_AFTER_KFREE).kasanReports().size(), "still watched after the restore");
        }

        @Test
        void aSlabReleasedDuringOneRun_isWatchedAgainOnceTheRestoreBringsItBack(Guest guest) {
            KernelMemory memory = completed(guest, "nop").memory();
            int id = cacheId(memory, "kmalloc-32");
            long slabs = memory.slabs().info().stream().filter(i -> i.name().equals("kmalloc-32"))
                    .mapToLong(i -> i.totalObjects()).sum();
            memory.slabs().shrink(id); // kmalloc-32's empty slab (the boot freed all it took) goes, and its hook
            long after = memory.slabs().info().stream().filter(i -> i.name().equals("kmalloc-32"))
                    .mapToLong(i -> i.totalObjects()).sum();
            assertTrue(after < slabs, "shrink released a slab that the snapshot holds: " + slabs + " -> " + after);
            assertEquals(1, completed(guest, READ_AFTER_KFREE).kasanReports().size());
        }
    }

    @Nested
    @ExtendWith(KemuExtension.class)
    @MemoryDebug(slub = "FZPU", kasan = true)
    class BothModes {
        @Test
        void cleanSnippet_passesAssertNoMemoryErrors(Guest guest) {
            GuestRun run = completed(guest, CLEAN);
            assertEquals(List.of(), run.slubReports());
            assertEquals(List.of(), run.kasanReports());
            run.assertNoMemoryErrors();
        }

        @Test
        void offByOneWrite_isReportedByBoth(Guest guest) {
            GuestRun run = completed(guest, OFF_BY_ONE_WRITE_THEN_KFREE);
            assertEquals(List.of("slab-out-of-bounds"), run.kasanReports().stream().map(KasanReport::kind).toList());
            assertEquals(List.of("Right Redzone overwritten"), run.slubReports().stream().map(SlubReport::reason).toList());
            AssertionError failure = assertThrows(AssertionError.class, run::assertNoMemoryErrors);
            assertTrue(failure.getMessage().startsWith("memory errors: 1 SLUB debug report(s), 1 KASAN report(s)\n"),
                    failure.getMessage());
        }
    }

    @Nested
    @ExtendWith(KemuExtension.class)
    @MemoryDebug // none, even when the suite runs with -Dkemu.memoryDebug: these bugs are made on purpose
    class NoModes {
        @Test
        void theSameBugs_reportNothing_andTheCachesHaveNoDebugFlags(Guest guest) {
            GuestRun offByOne = completed(guest, OFF_BY_ONE_WRITE_THEN_KFREE);
            assertEquals(List.of(), offByOne.slubReports());
            assertEquals(0, debugFlags(offByOne.memory(), "kmalloc-32"));
            GuestRun useAfterFree = completed(guest, READ_AFTER_KFREE);
            assertEquals(List.of(), useAfterFree.kasanReports());
            useAfterFree.assertNoMemoryErrors();
        }
    }

    @MemoryDebug(slub = "FZX")
    static final class BadLetters {
    }

    @Test
    void anUnknownSlubMode_isRefusedNamingTheAnnotationAndTheClass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryModes.of(BadLetters.class.getAnnotation(MemoryDebug.class), BadLetters.class));
        assertTrue(e.getMessage().startsWith("@MemoryDebug(slub = \"FZX\") on " + BadLetters.class.getName() + ": "),
                e.getMessage());
        assertTrue(e.getMessage().contains("unknown mode 'X'"), e.getMessage());
    }

    @Test
    void machinesAreKeptPerModeSet_equalModesShareOne() {
        KemuExtension.Machines machines = new KemuExtension.Machines();
        try {
            var none = new KemuExtension.MachineKey(Optional.empty(), MemoryModes.NONE);
            var kasan = new KemuExtension.MachineKey(Optional.empty(), new MemoryModes(SlubDebug.OFF, true, true));
            TestMachine plain = machines.current(none);
            TestMachine withKasan = machines.current(kasan);
            assertNotSame(plain, withKasan);
            assertSame(withKasan, machines.current(new KemuExtension.MachineKey(Optional.empty(),
                    new MemoryModes(SlubDebug.parse("-"), true, true))));
            assertSame(plain, machines.current(none));
        } finally {
            machines.close();
        }
    }
}
