package dev.kemu.testing;

import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.HookType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Establishes which address libunicorn 2.1.4 passes {@code UC_HOOK_MEM_WRITE}: the physical one
 * on every access path (its {@code store_helper} reports {@code entry->paddr | offset} and checks
 * the hook's range against it too). Dirty-page tracking relies on this, so it is pinned here.
 */
class WriteHookAddressTest {
    private static TestMachine machine;
    private static final List<Long> addresses = new ArrayList<>();

    @BeforeAll
    static void boot() {
        machine = new TestMachine();
        machine.machine().engine().hookMem(HookType.MEM_WRITE, 1, 0,
                (uc, type, address, size, value) -> {
                    if (size == 8 && value == 0x5a5a) {
                        addresses.add(address);
                    }
                });
    }

    @AfterAll
    static void close() {
        machine.close();
    }

    private static List<Long> storeAddresses(String source) {
        addresses.clear();
        GuestRun run = machine.run(source, Map.of(), 100_000);
        assertTrue(run.completed(), run.describe());
        return List.copyOf(addresses);
    }

    @Test
    void writeHook_lowMappingTheGuestMade_getsPhysical() {
        // The kernel keeps no identity map in the higher half: map V0x300000 to P0x600000 and store there.
        assertEquals(List.of(0x600008L), storeAddresses("""
                    mov edi, 0x300000
                    mov esi, 0x600000
                    mov edx, PTE_WRITABLE
                    HYPERCALL HC_VMMAP
                    test rax, rax
                    jnz 1f
                    mov eax, 0x300008
                    mov qword ptr [rax], 0x5a5a
                1:
                """));
    }

    @Test
    void writeHook_higherHalf_getsPhysical() {
        assertEquals(List.of(0x500000L), storeAddresses("""
                    movabs rax, 0xffffffff80500000
                    mov qword ptr [rax], 0x5a5a
                """));
    }

    @Test
    void writeHook_directMap_getsPhysical() {
        assertEquals(List.of(0x500010L), storeAddresses("""
                    movabs rax, 0xffff800000500010
                    mov qword ptr [rax], 0x5a5a
                """));
    }

    @Test
    void writeHook_afterIdentityMapUnmapped_getsPhysical() {
        assertEquals(List.of(0x100800L), storeAddresses("""
                    xor edi, edi
                    mov esi, 0x200000
                    HYPERCALL HC_VMUNMAP
                    movabs rax, 0xffff800000100800
                    mov qword ptr [rax], 0x5a5a
                """));
    }

    @Test
    void writeHook_snippetArea_getsPhysicalOfItsFrame() {
        long physical = machine.machine().physical(TestMachine.STACK_VA);
        assertEquals(List.of(physical + 0x40), storeAddresses("""
                    movabs rax, 0xffffffffc0100040
                    mov qword ptr [rax], 0x5a5a
                """));
    }

    @Test
    void writeHook_pagingOff_getsTheAddressItself() {
        try (Machine bare = new Machine(1 << 20)) {
            List<Long> seen = new ArrayList<>();
            bare.engine().hookMem(HookType.MEM_WRITE, 1, 0, (uc, type, address, size, value) -> seen.add(address));
            // mov qword ptr [0x5008], rax; hlt
            bare.ram().write(0x1000, new byte[]{0x48, (byte) 0x89, 0x04, 0x25, 0x08, 0x50, 0, 0, (byte) 0xf4});
            bare.run(0x1000, RunLimits.budget(10));
            assertEquals(List.of(0x5008L), seen);
        }
    }
}
