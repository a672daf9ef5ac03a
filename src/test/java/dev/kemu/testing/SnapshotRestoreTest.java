package dev.kemu.testing;

import dev.kemu.machine.CpuState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Restoring must give back every byte of guest RAM and every register, whatever the test did. */
class SnapshotRestoreTest {
    private static TestMachine machine;

    @BeforeAll
    static void boot() {
        machine = new TestMachine();
    }

    @AfterAll
    static void close() {
        machine.close();
    }

    private static byte[] ram() {
        return machine.machine().ram().segment().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void reset_afterGuestAndHostWritesEverywhere_restoresRamAndRegistersExactly() {
        machine.reset();
        byte[] before = ram();
        CpuState cpuBefore = machine.machine().cpu();
        GuestRun run = machine.run("""
                    mov edi, 5000
                    mov esi, ALLOC_ZERO
                    HYPERCALL HC_KMALLOC                # host writes: slab metadata, frame table
                    mov qword ptr [rax], 7
                    mov edi, 3 * 4096
                    HYPERCALL HC_VMALLOC                # new page tables, vm_area nodes
                    mov qword ptr [rax + 8192], 9
                    movabs rdi, 0xffff800000300000      # guest stores through the direct map
                    mov ecx, 4096
                1:  mov qword ptr [rdi + rcx * 8 - 8], rcx
                    loop 1b
                    mov rbx, 0x1234
                    mov r15, -1
                    push rbx
                """, Map.of(), 1_000_000);
        assertTrue(run.completed(), run.describe());
        machine.reset();
        byte[] after = ram();
        int mismatch = Arrays.mismatch(before, after);
        assertEquals(-1, mismatch, "first differing byte at P0x" + Integer.toHexString(mismatch));
        CpuState cpuAfter = machine.machine().cpu();
        assertArrayEquals(cpuBefore.gprs(), cpuAfter.gprs());
        assertEquals(cpuBefore.rip(), cpuAfter.rip());
        assertEquals(cpuBefore.cr3(), cpuAfter.cr3());
        assertEquals(cpuBefore.rflags(), cpuAfter.rflags());
    }

    @Test
    void reset_copiesOnlyWhatChanged() {
        machine.reset();
        byte[] before = ram();
        machine.run("    mov qword ptr [rsp - 64], 1", Map.of(), 1000);
        long pages = machine.reset();
        assertTrue(pages < 32, pages + " pages restored for one store");
        assertTrue(pages >= 1, "the stack page written by the store was not restored");
        int mismatch = Arrays.mismatch(before, ram());
        assertEquals(-1, mismatch, "first differing byte at P0x" + Integer.toHexString(mismatch));
    }

    @Test
    void reset_twiceInARow_copiesNothingTheSecondTime() {
        machine.reset();
        assertEquals(0, machine.reset(), "pages copied although nothing ran since the last reset");
    }
}
