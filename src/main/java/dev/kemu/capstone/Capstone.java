package dev.kemu.capstone;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.nativelib.NativeLibraryLocator;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An x86-64 disassembler over libcapstone (4 or 5) through FFM, Intel syntax, no detail mode.
 * One instance per thread; {@link #close()} frees the native handle.
 */
public final class Capstone implements AutoCloseable {
    private static final int CS_ARCH_X86 = 3, CS_MODE_64 = 1 << 3;
    private static final NativeLibraryLocator LOCATOR = new NativeLibraryLocator("libcapstone", "CAPSTONE_LIB",
            ".native/capstone/lib", List.of("libcapstone.so.5", "libcapstone.so.4"),
            "kemu needs libcapstone 4 or 5 for disassembly: run `make natives`, install libcapstone4 "
                    + "(apt-get install libcapstone4), or set CAPSTONE_LIB=/path/to/libcapstone.so.");

    /** One decoded instruction. */
    public record Instruction(long address, byte[] bytes, String mnemonic, String operands) {
        public String text() {
            return operands.isEmpty() ? mnemonic : mnemonic + " " + operands;
        }
    }

    private static final class Native {
        final MethodHandle open, close, disasm, free, version;
        final int major;
        final String source;

        Native() {
            NativeLibraryLocator.Located located = LOCATOR.load(Arena.global());
            SymbolLookup lib = located.lookup();
            Linker linker = Linker.nativeLinker();
            source = located.source();
            open = handle(linker, lib, "cs_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
            close = handle(linker, lib, "cs_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            disasm = handle(linker, lib, "cs_disasm",
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
            free = handle(linker, lib, "cs_free", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));
            version = handle(linker, lib, "cs_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            try {
                major = ((int) version.invokeExact(MemorySegment.NULL, MemorySegment.NULL)) >> 8;
            } catch (Throwable t) {
                throw new NativeLibraryException("cs_version failed in " + source, t);
            }
            if (major < 4) {
                throw new NativeLibraryException("libcapstone " + major + ".x at " + source + " is too old; kemu needs 4 or 5");
            }
        }

        private MethodHandle handle(Linker linker, SymbolLookup lib, String name, FunctionDescriptor descriptor) {
            return linker.downcallHandle(lib.find(name).orElseThrow(() -> new NativeLibraryException(
                    "libcapstone at " + source + " lacks " + name)), descriptor);
        }
    }

    private static volatile Native lib;

    private final Native n;
    private final Arena arena = Arena.ofConfined();
    private final long handle;
    // cs_insn: id u32, address u64 @8, size u16 @16, bytes @18 (16 bytes in v4, 24 in v5), mnemonic[32], op_str[160]
    private final long bytesLength, mnemonicOffset, operandsOffset, insnSize;

    public Capstone() {
        n = native_();
        MemorySegment out = arena.allocate(JAVA_LONG);
        int err;
        try {
            err = (int) n.open.invokeExact(CS_ARCH_X86, CS_MODE_64, out);
        } catch (Throwable t) {
            throw new NativeLibraryException("cs_open failed", t);
        }
        if (err != 0) {
            throw new NativeLibraryException("cs_open(X86, 64) failed with cs_err " + err);
        }
        handle = out.get(JAVA_LONG, 0);
        bytesLength = n.major >= 5 ? 24 : 16;
        mnemonicOffset = 18 + bytesLength;
        operandsOffset = mnemonicOffset + 32;
        insnSize = (operandsOffset + 160 + 7) / 8 * 8 + 8;
    }

    private static Native native_() {
        Native loaded = lib;
        if (loaded == null) {
            synchronized (Capstone.class) {
                loaded = lib;
                if (loaded == null) {
                    loaded = new Native();
                    lib = loaded;
                }
            }
        }
        return loaded;
    }

    public static String librarySource() {
        return native_().source;
    }

    /** Decodes up to {@code count} instructions of {@code code}, which starts at {@code address}. */
    public List<Instruction> disassemble(byte[] code, long address, int count) {
        List<Instruction> result = new ArrayList<>();
        if (code.length == 0) {
            return result;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buffer = local.allocate(code.length);
            MemorySegment.copy(code, 0, buffer, ValueLayout.JAVA_BYTE, 0, code.length);
            MemorySegment insnOut = local.allocate(ADDRESS);
            long decoded = (long) n.disasm.invokeExact(handle, buffer, (long) code.length, address, (long) count, insnOut);
            MemorySegment insns = insnOut.get(ADDRESS, 0).reinterpret(decoded * insnSize);
            for (long i = 0; i < decoded; i++) {
                MemorySegment insn = insns.asSlice(i * insnSize, insnSize);
                int size = Short.toUnsignedInt(insn.get(ValueLayout.JAVA_SHORT, 16));
                byte[] bytes = insn.asSlice(18, Math.min(size, bytesLength)).toArray(ValueLayout.JAVA_BYTE);
                result.add(new Instruction(insn.get(JAVA_LONG, 8), bytes, insn.getString(mnemonicOffset),
                        insn.getString(operandsOffset)));
            }
            n.free.invokeExact(insnOut.get(ADDRESS, 0), decoded);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cs_disasm failed", t);
        }
        return result;
    }

    @Override
    public void close() {
        try (arena) {
            MemorySegment handleCell = arena.allocate(JAVA_LONG);
            handleCell.set(JAVA_LONG, 0, handle);
            int ignored = (int) n.close.invokeExact(handleCell);
        } catch (Throwable t) {
            throw new IllegalStateException("cs_close failed", t);
        }
    }
}
