package dev.kemu.unicorn;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binding against the real libunicorn: memory, registers, hooks, contexts, errors. */
class UnicornTest {
    private static final long CODE = 0x1000;
    // mov rax, 0x1234 ; inc rcx ; out 0xE6, al ; inc rcx ; hlt
    private static final byte[] PROGRAM = {0x48, (byte) 0xC7, (byte) 0xC0, 0x34, 0x12, 0, 0, 0x48, (byte) 0xFF,
            (byte) 0xC1, (byte) 0xE6, (byte) 0xE6, 0x48, (byte) 0xFF, (byte) 0xC1, (byte) 0xF4};

    private Unicorn uc;

    @BeforeEach
    void open() {
        uc = Unicorn.openX86_64();
        uc.memMap(0, 0x10000, Prot.ALL);
        uc.memWrite(CODE, PROGRAM);
    }

    @AfterEach
    void close() {
        uc.close();
    }

    @Test
    void libraryVersion_isAtLeast2_1() {
        assertTrue(Unicorn.libraryVersion().matches("\\d+\\.\\d+\\.\\d+"), Unicorn.libraryVersion());
        String[] parts = Unicorn.libraryVersion().split("\\.");
        assertTrue(UnicornNative.supported(Integer.parseInt(parts[0]), Integer.parseInt(parts[1])),
                Unicorn.libraryVersion());
    }

    @Test
    void everyFunction_linksOnFirstUse_once() {
        // Handles are linked on first use: one the suite never calls must still link (symbol present, options valid).
        UnicornNative lib = UnicornNative.get();
        for (UnicornNative.Function function : UnicornNative.Function.values()) {
            if (function == UnicornNative.Function.VMEM_TRANSLATE && !lib.hasVmemTranslate()) {
                continue;
            }
            assertSame(lib.handle(function), lib.handle(function), function.name());
        }
    }

    @Test
    void versionCheck_refusesEverythingBelow2_1() {
        // The binding's own rule (UnicornNative.supported), the one the library load applies.
        assertFalse(UnicornNative.supported(1, 1));
        assertFalse(UnicornNative.supported(1, 9));
        assertFalse(UnicornNative.supported(2, 0));
        assertTrue(UnicornNative.supported(2, 1));
        assertTrue(UnicornNative.supported(2, 4));
        assertTrue(UnicornNative.supported(3, 0));
    }

    @Test
    void regRead_ofASegmentSelector_isZeroExtended() {
        uc.regWrite(X86Reg.RAX, -1); // leaves all-ones in the binding's scratch buffer
        long cs = uc.regRead(X86Reg.CS);
        assertEquals(cs & 0xffff, cs, () -> "CS read as 0x" + Long.toHexString(cs));
    }

    @Test
    void start_runsUntilAddress_registersReflectExecution() {
        uc.start(CODE, CODE + 10, 0, 0);
        assertEquals(0x1234, uc.regRead(X86Reg.RAX));
        assertEquals(1, uc.regRead(X86Reg.RCX));
        assertEquals(CODE + 10, uc.regRead(X86Reg.RIP));
    }

    @Test
    void start_withCount_stopsAfterThatManyInstructions() {
        uc.start(CODE, 0, 0, 2);
        assertEquals(CODE + 10, uc.regRead(X86Reg.RIP));
    }

    @Test
    void portOutHook_seesPortAndValue_andCanWriteRegisters() {
        List<String> seen = new ArrayList<>();
        uc.hookPortOut((engine, port, size, value) -> {
            seen.add(Integer.toHexString(port) + "/" + size + "/" + Integer.toHexString(value));
            engine.regWrite(X86Reg.RCX, 100);
        });
        uc.start(CODE, CODE + PROGRAM.length - 1, 0, 0);
        assertEquals(List.of("e6/1/34"), seen);
        assertEquals(101, uc.regRead(X86Reg.RCX), "the hook's write happened before the second inc");
    }

    @Test
    void removedHook_isNotCalledAgain() {
        int[] calls = {0};
        HookHandle hook = uc.hookCode(1, 0, (engine, address, size) -> calls[0]++);
        uc.start(CODE, CODE + 7, 0, 0);
        assertEquals(1, calls[0]);
        hook.remove();
        uc.start(CODE, CODE + 10, 0, 0);
        assertEquals(1, calls[0]);
    }

    @Test
    void exceptionThrownInHook_stopsEmulationAndIsRethrownFromStart() {
        IllegalStateException thrown = new IllegalStateException("from the hook");
        uc.hookPortOut((engine, port, size, value) -> {
            throw thrown;
        });
        IllegalStateException caught = assertThrows(IllegalStateException.class,
                () -> uc.start(CODE, CODE + PROGRAM.length - 1, 0, 0));
        assertSame(thrown, caught);
    }

    @Test
    void interruptHook_receivesVector_int3() {
        uc.memWrite(0x2000, new byte[]{(byte) 0xCC, (byte) 0xF4});
        int[] vector = {-1};
        uc.hookInterrupt((engine, v) -> vector[0] = v);
        uc.start(0x2000, 0x2002, 0, 0);
        assertEquals(3, vector[0]);
    }

    @Test
    void blockHook_reportsBlockStart() {
        List<Long> blocks = new ArrayList<>();
        uc.hookBlock(1, 0, (engine, address, size) -> blocks.add(address));
        uc.start(CODE, CODE + 10, 0, 0);
        assertEquals(CODE, blocks.get(0));
    }

    @Test
    void memHook_seesWritesWithAddressAndValue() {
        // mov [0x3000], rax (48 89 04 25 00 30 00 00) after mov rax, 0x1234
        uc.memWrite(0x2000, new byte[]{0x48, (byte) 0xC7, (byte) 0xC0, 0x34, 0x12, 0, 0, 0x48, (byte) 0x89, 0x04, 0x25,
                0, 0x30, 0, 0});
        List<String> writes = new ArrayList<>();
        uc.hookMem(HookType.MEM_WRITE, 1, 0, (engine, type, address, size, value) ->
                writes.add(type + "@" + Long.toHexString(address) + "/" + size + "=" + Long.toHexString(value)));
        uc.start(0x2000, 0x200f, 0, 0);
        assertEquals(List.of(HookType.MEM_TYPE_WRITE + "@3000/8=1234"), writes);
    }

    @Test
    void unmappedEventHook_canMapTheMissingPageAndRetry() {
        // mov rax, [0x50000]
        uc.memWrite(0x2000, new byte[]{0x48, (byte) 0x8B, 0x04, 0x25, 0, 0, 5, 0});
        uc.hookMemEvent(HookType.MEM_UNMAPPED, (engine, type, address, size, value) -> {
            engine.memMap(address & ~0xfffL, 0x1000, Prot.ALL);
            engine.memWrite(address, new byte[]{0x2a});
            return true;
        });
        uc.start(0x2000, 0x2008, 0, 0);
        assertEquals(0x2a, uc.regRead(X86Reg.RAX));
    }

    @Test
    void invalidInstruction_raisesInsnInvalidError() {
        uc.memWrite(0x2000, new byte[]{(byte) 0x0F, (byte) 0xFF});
        UnicornException e = assertThrows(UnicornException.class, () -> uc.start(0x2000, 0x2002, 0, 0));
        assertEquals(UcError.INSN_INVALID, e.error());
    }

    @Test
    void overlappingMap_failsWithNativeErrorNameStrerrorAndHexArguments() {
        UnicornException e = assertThrows(UnicornException.class, () -> uc.memMap(0x1000, 0x1000, Prot.ALL));
        assertEquals(UcError.MAP, e.error());
        assertEquals("uc_mem_map(address=0x1000, size=0x1000, prot=rwx) failed: UC_ERR_MAP (Invalid memory mapping "
                + "(UC_ERR_MAP))", e.getMessage());
    }

    @Test
    void memRegions_protectAndUnmap_areReflected() {
        uc.memMap(0x20000, 0x3000, Prot.READ);
        uc.memProtect(0x21000, 0x1000, Prot.READ | Prot.WRITE);
        uc.memUnmap(0x22000, 0x1000);
        assertEquals(List.of(new MemRegion(0, 0xffff, Prot.ALL), new MemRegion(0x20000, 0x20fff, Prot.READ),
                new MemRegion(0x21000, 0x21fff, Prot.READ | Prot.WRITE)), uc.memRegions());
    }

    @Test
    void memMapPtr_sharesHostMemoryBothWays() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(0x1000, 0x1000);
            uc.memMapPtr(0x40000, host, Prot.ALL);
            host.set(ValueLayout.JAVA_LONG, 8, 0x1122334455667788L);
            assertArrayEquals(new byte[]{(byte) 0x88, 0x77}, uc.memRead(0x40008, 2));
            uc.memWrite(0x40010, new byte[]{0x5a});
            assertEquals(0x5a, host.get(ValueLayout.JAVA_BYTE, 0x10));
        }
    }

    @Test
    void batchRegisters_readAndWriteSeveralInOneCall() {
        RegisterBatch batch = uc.batch(X86Reg.RDI, X86Reg.RSI, X86Reg.R10);
        batch.write(new long[]{1, -2, 0x7fff_ffff_ffffL});
        assertEquals(-2, uc.regRead(X86Reg.RSI));
        long[] out = new long[3];
        batch.read(out);
        assertArrayEquals(new long[]{1, -2, 0x7fff_ffff_ffffL}, out);
    }

    @Test
    void msrAndDescriptorTableRegisters_roundTrip() {
        uc.writeMsr(0xC0000102, 0xdead_beef_0000L); // KERNEL_GS_BASE
        assertEquals(0xdead_beef_0000L, uc.readMsr(0xC0000102));
        uc.writeMmr(X86Reg.GDTR, new Mmr(0, 0x5000, 0x27, 0));
        Mmr gdtr = uc.readMmr(X86Reg.GDTR);
        assertEquals(0x5000, gdtr.base());
        assertEquals(0x27, gdtr.limit());
        assertTrue((uc.readMsr(X86Reg.MSR_EFER) & (1 << 10)) != 0, "x86-64 engine starts with EFER.LMA");
    }

    @Test
    void context_restoreReturnsRegistersToTheSavedState() {
        uc.regWrite(X86Reg.RBX, 7);
        try (Context saved = uc.contextSave()) {
            uc.regWrite(X86Reg.RBX, 8);
            uc.contextRestore(saved);
            assertEquals(7, uc.regRead(X86Reg.RBX));
            assertTrue(saved.size() > 0);
            assertEquals(saved.size(), saved.bytes().byteSize());
        }
    }

    @Test
    void ctl_cpuModelTlbFlushAndCacheRemoval_succeed() {
        try (Unicorn fresh = Unicorn.openX86_64()) {
            fresh.setCpuModel(37); // UC_CPU_X86_HASWELL
            assertEquals(37, fresh.cpuModel());
        }
        uc.start(CODE, CODE + 7, 0, 0);
        uc.flushTlb();
        uc.removeTranslationCache(CODE, CODE + PROGRAM.length);
        uc.memWrite(CODE, new byte[]{0x48, (byte) 0xC7, (byte) 0xC0, 0x78, 0x56, 0, 0});
        uc.start(CODE, CODE + 7, 0, 0);
        assertEquals(0x5678, uc.regRead(X86Reg.RAX), "rewritten code runs after the cache was dropped");
    }

    @Test
    void exits_stopEmulationAtAnyListedAddress() {
        uc.setExits(CODE + 7, CODE + 12);
        uc.start(CODE, 0, 0, 0);
        assertEquals(CODE + 7, uc.regRead(X86Reg.RIP));
    }

    @Test
    void timeout_endsAnEndlessLoop() {
        uc.memWrite(0x2000, new byte[]{(byte) 0xEB, (byte) 0xFE}); // jmp $
        long started = System.nanoTime();
        uc.start(0x2000, 0x3000, 50_000, 0);
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(elapsedMs >= 40 && elapsedMs < 5_000, elapsedMs + " ms");
        assertEquals(0x2000, uc.regRead(X86Reg.RIP));
    }

    @Test
    void portInHook_valueLandsInAl() {
        uc.memWrite(0x2000, new byte[]{(byte) 0xE4, 0x60}); // in al, 0x60
        uc.hookPortIn((engine, port, size) -> port == 0x60 && size == 1 ? 0x5a : 0);
        uc.start(0x2000, 0x2002, 0, 0);
        assertEquals(0x5a, uc.regRead(X86Reg.RAX) & 0xff);
    }

    @Test
    void syscallHook_runsForTheSyscallInstruction() {
        uc.memWrite(0x2000, new byte[]{0x0F, 0x05}); // syscall
        int[] calls = {0};
        uc.hookSyscall(X86Insn.SYSCALL, engine -> {
            calls[0]++;
            engine.regWrite(X86Reg.RAX, 42);
        });
        uc.start(0x2000, 0x2002, 0, 0);
        assertEquals(1, calls[0]);
        assertEquals(42, uc.regRead(X86Reg.RAX));
    }

    @Test
    void invalidInstructionHook_isCalledBeforeTheErrorIsRaised() {
        uc.memWrite(0x2000, new byte[]{(byte) 0x0F, (byte) 0xFF});
        int[] calls = {0};
        uc.hookInvalidInstruction(engine -> {
            calls[0]++;
            return false;
        });
        UnicornException e = assertThrows(UnicornException.class, () -> uc.start(0x2000, 0x2002, 0, 0));
        assertEquals(UcError.INSN_INVALID, e.error());
        assertEquals(1, calls[0]);
    }

    @Test
    void closeTwice_isHarmless() {
        Unicorn other = Unicorn.openX86_64();
        other.close();
        other.close();
    }
}
