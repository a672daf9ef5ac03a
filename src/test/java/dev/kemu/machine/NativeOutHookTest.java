package dev.kemu.machine;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.UcError;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The C trampoline of native/kemu_hooks.c on a bare engine: the hypercall path and its failures. */
class NativeOutHookTest {
    private static final long CODE = 0x1000;
    // mov edi, 40 ; mov esi, 2 ; mov eax, 7 ; out 0xE6, al
    private static final byte[] HYPERCALL = {(byte) 0xBF, 40, 0, 0, 0, (byte) 0xBE, 2, 0, 0, 0, (byte) 0xB8, 7, 0, 0, 0,
            (byte) 0xE6, (byte) 0xE6};
    /** UC_ERR_ARG. Unicorn 2.1.4 accepts unknown register ids, so the failing calls are stand-ins. */
    private static final int UC_ERR_ARG = 15;

    @TempDir
    Path dir;

    private Unicorn uc;
    private NativeOutHook hook;
    private final List<String> calls = new ArrayList<>();

    @BeforeEach
    void open() {
        uc = Unicorn.openX86_64();
        uc.memMap(0, 0x10000, Prot.ALL);
        uc.memWrite(CODE, HYPERCALL);
        hook = NativeOutHook.install(uc, new NativeOutHook.Receiver() {
            @Override
            public long hypercall(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
                calls.add("hypercall " + number + "(" + a0 + ", " + a1 + ")");
                return a0 + a1;
            }

            @Override
            public void otherPort(int port, int size, int value) {
                calls.add("port " + port);
            }
        });
        assertNotNull(hook, "libkemu_hooks is missing or stale: run `make natives` (scripts/natives.sh)");
        hook.setHypercallPort(0xE6);
    }

    @AfterEach
    void close() {
        uc.close();
        hook.close();
    }

    private void run() {
        uc.start(CODE, CODE + HYPERCALL.length, 0, 0);
    }

    @Test
    void hypercall_passesTheArgumentsAndWritesTheResultToRax() {
        run();
        assertEquals(List.of("hypercall 7(40, 2)"), calls);
        assertEquals(42, uc.regRead(X86Reg.RAX));
        assertEquals(0, hook.recordedError());
    }

    @Test
    void hypercall_readsOnlyTheArgumentRegistersItsArityNames_theRestPassAsZero() {
        hook.setArity(7, 1);
        run();
        hook.setArity(7, 0);
        run();
        assertEquals(List.of("hypercall 7(40, 0)", "hypercall 7(0, 0)"), calls);
        assertEquals(0, uc.regRead(X86Reg.RAX));
    }

    @Test
    void failingArgumentRead_stopsTheRunNamingTheCall_andMakesNoHypercall() {
        NativeOutHook.DISPATCH.varHandle(groupElement("read_batch")).set(hook.block(), 0L, failing("readBatchFails",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT)));
        UnicornException e = nativeFailure(assertThrows(UnicornException.class, this::run));
        assertTrue(e.getMessage().startsWith("uc_reg_read_batch(RDI, RSI, RDX, R10, R8, R9) in the native hypercall "
                + "hook (native/kemu_hooks.c) failed: UC_ERR_ARG ("), e.getMessage());
        assertEquals(UcError.ARG, e.error());
        assertEquals(List.of(), calls);
        assertEquals(15, hook.recordedError(), "UC_ERR_ARG recorded in the dispatch block");
    }

    @Test
    void failingResultWrite_stopsTheRunNamingTheCall() {
        NativeOutHook.DISPATCH.varHandle(groupElement("write")).set(hook.block(), 0L, failing("writeFails",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG)));
        UnicornException e = nativeFailure(assertThrows(UnicornException.class, this::run));
        assertTrue(e.getMessage().startsWith("uc_reg_write(RAX) in the native hypercall hook (native/kemu_hooks.c) "
                + "failed: UC_ERR_ARG ("), e.getMessage());
        assertEquals(List.of("hypercall 7(40, 2)"), calls);
    }

    @Test
    void libraryBuiltFromAnotherStruct_isRefusedNamingTheFirstDifferentField() throws Exception {
        SymbolLookup library = compile("""
                const unsigned kemu_out_dispatch_layout[] = {152, 0, 4, 8, 32, 40, 48, 56, 64, 80, 72, 84, 88};
                const unsigned kemu_out_dispatch_layout_length = 13;
                """);
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeDispatchLayout.check(library, "test.so", NativeOutHook.DISPATCH));
        assertEquals("libkemu_hooks at test.so was built from another kemu_hooks.c (kemu_out_dispatch: field "
                + "receiver is at +80 there, +72 here); run `make natives` to rebuild it", e.getMessage());
    }

    @Test
    void libraryWithoutALayoutTable_isRefused() throws Exception {
        SymbolLookup library = compile("int unrelated;\n");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeDispatchLayout.check(library, "old.so", NativeOutHook.DISPATCH));
        assertTrue(e.getMessage().contains("it exports no kemu_out_dispatch_layout"), e.getMessage());
    }

    @Test
    void theBuiltLibrary_agreesWithTheJavaLayout() {
        assertEquals(152, NativeOutHook.DISPATCH.byteSize());
        assertEquals(72, NativeOutHook.DISPATCH.byteOffset(groupElement("receiver")));
        // install() in open() already ran the check against the real library; a mismatch gives no hook.
        assertNotNull(hook);
    }

    /** The failure the hook reported, whether uc_emu_start's caller gets it as is or wrapped as a hook failure. */
    private static UnicornException nativeFailure(UnicornException thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof UnicornException e && e.getMessage().contains("in the native hypercall hook")
                    && !e.getMessage().startsWith("hook failed")) {
                return e;
            }
        }
        throw new AssertionError("no native hook failure in the exception chain", thrown);
    }

    /** Stand-ins for uc_reg_read_batch and uc_reg_write that fail as Unicorn would. */
    private static int readBatchFails(long uc, long regs, long values, int count) {
        return UC_ERR_ARG;
    }

    private static int writeFails(long uc, int register, long value) {
        return UC_ERR_ARG;
    }

    private static MemorySegment failing(String method, FunctionDescriptor descriptor) {
        return Unicorn.staticUpcall(NativeOutHookTest.class, method, descriptor);
    }

    private SymbolLookup compile(String source) throws Exception {
        Path c = dir.resolve("fake.c"), library = dir.resolve("libfake.so");
        Files.writeString(c, source);
        Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", library.toString(), c.toString())
                .redirectErrorStream(true).start();
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), output);
        return SymbolLookup.libraryLookup(library, Arena.ofAuto());
    }
}
