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
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An x86-64 disassembler over libcapstone (4 or 5) through FFM, Intel syntax. {@link #withOperands()}
 * turns Capstone's detail mode on and decodes each instruction's memory operand from {@code cs_detail}
 * ({@link X86Detail}); that struct's layout is Capstone 4's, so detail mode is refused on other versions
 * ({@link #operandDetailSupported()}). One instance per thread; {@link #close()} frees the native handle.
 */
public final class Capstone implements AutoCloseable {
    private static final int CS_ARCH_X86 = 3, CS_MODE_64 = 1 << 3;
    private static final int CS_OPT_DETAIL = 2, CS_OPT_MODE = 3;
    private static final int CS_MODE_16 = 1 << 1, CS_MODE_32 = 1 << 2;
    private static final long CS_OPT_ON = 3;
    /** The one major version whose {@code cs_detail} layout {@link X86Detail} describes. */
    private static final int DETAIL_MAJOR = 4;
    private static final NativeLibraryLocator LOCATOR = new NativeLibraryLocator("libcapstone", "CAPSTONE_LIB",
            ".native/capstone/lib", List.of("libcapstone.so.5", "libcapstone.so.4"),
            "kemu needs libcapstone 4 or 5 for disassembly: run `make natives`, install libcapstone4 "
                    + "(apt-get install libcapstone4), or set CAPSTONE_LIB=/path/to/libcapstone.so.");

    /**
     * One decoded instruction; {@code memory} is its first memory operand, decoded only in detail
     * mode ({@link #withOperands()}), otherwise empty.
     */
    public record Instruction(long address, byte[] bytes, String mnemonic, String operands,
                              Optional<MemoryOperand> memory) {
        public String text() {
            return operands.isEmpty() ? mnemonic : mnemonic + " " + operands;
        }
    }

    /**
     * A memory operand as Capstone decodes it: {@code segment:[base + index * scale + displacement]}
     * with register names in Capstone's spelling ({@code "rbx"}, {@code "ecx"}, {@code "rip"}),
     * {@code ""} where the operand has none; {@code addressSize} in bytes (8, or 4 with a 0x67 prefix).
     */
    public record MemoryOperand(String segment, String base, String index, int scale, long displacement,
                                int addressSize) {}

    private static final class Native {
        final MethodHandle open, close, disasm, free, version, option, regName;
        final int major, minor;
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
            option = handle(linker, lib, "cs_option", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
            regName = handle(linker, lib, "cs_reg_name", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_INT));
            try {
                int combined = (int) version.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
                major = combined >> 8;
                minor = combined & 0xff;
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
    /** Shared, not confined: an engine may be opened on one thread and closed on another (a debugger session, JUnit). */
    private final Arena arena = Arena.ofShared();
    private final long handle;
    // cs_insn: id u32, address u64 @8, size u16 @16, bytes @18 (16 bytes in v4, 24 in v5), mnemonic[32], op_str[160]
    private final long bytesLength, mnemonicOffset, operandsOffset, detailOffset, insnSize;
    private final boolean detail;

    /** Text only (mnemonic and operands), on any supported libcapstone. */
    public Capstone() {
        this(false);
    }

    /**
     * Text and the memory operand of each instruction (Capstone's detail mode).
     *
     * @throws NativeLibraryException when the loaded libcapstone is not 4.x, whose {@code cs_detail}
     *                                layout is the only one kemu knows
     */
    public static Capstone withOperands() {
        Native loaded = native_();
        if (loaded.major != DETAIL_MAJOR) {
            throw new NativeLibraryException(String.format("libcapstone %d.%d at %s: kemu reads instruction operands "
                    + "(cs_detail) only from libcapstone %d.x, whose struct layout it knows; the layout of %d.x differs. "
                    + "Set CAPSTONE_LIB=/path/to/libcapstone.so.4 for operand decoding (disassembly text works with both)",
                    loaded.major, loaded.minor, loaded.source, DETAIL_MAJOR, loaded.major));
        }
        return new Capstone(true);
    }

    /** Whether {@link #withOperands()} works with the loaded libcapstone. */
    public static boolean operandDetailSupported() {
        return native_().major == DETAIL_MAJOR;
    }

    private Capstone(boolean detail) {
        this.detail = detail;
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
        detailOffset = (operandsOffset + 160 + 7) / 8 * 8; // cs_detail *detail, the last field
        insnSize = detailOffset + 8;
        if (detail) {
            int status;
            try {
                status = (int) n.option.invokeExact(handle, CS_OPT_DETAIL, CS_OPT_ON);
            } catch (Throwable t) {
                throw new NativeLibraryException("cs_option(CS_OPT_DETAIL) failed in " + n.source, t);
            }
            if (status != 0) {
                throw new NativeLibraryException("cs_option(CS_OPT_DETAIL, CS_OPT_ON) failed with cs_err " + status
                        + " in " + n.source);
            }
        }
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
    /**
     * Decodes from now on as code of {@code bits} (16, 32 or 64) bits, as the CPU runs a protected-mode or
     * real-mode kernel: the same bytes mean other instructions (0x48 is {@code dec eax} outside 64-bit mode).
     */
    public void codeSize(int bits) {
        long mode = switch (bits) {
            case 16 -> CS_MODE_16;
            case 32 -> CS_MODE_32;
            case 64 -> CS_MODE_64;
            default -> throw new IllegalArgumentException("x86 code is 16, 32 or 64-bit, not " + bits);
        };
        int status;
        try {
            status = (int) n.option.invokeExact(handle, CS_OPT_MODE, mode);
        } catch (Throwable t) {
            throw new NativeLibraryException("cs_option(CS_OPT_MODE) failed in " + n.source, t);
        }
        if (status != 0) {
            throw new NativeLibraryException("cs_option(CS_OPT_MODE, " + bits + "-bit) failed with cs_err " + status
                    + " in " + n.source);
        }
    }

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
                        insn.getString(operandsOffset), memoryOperand(insn)));
            }
            n.free.invokeExact(insnOut.get(ADDRESS, 0), decoded);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cs_disasm failed", t);
        }
        return result;
    }

    private Optional<MemoryOperand> memoryOperand(MemorySegment insn) {
        if (!detail) {
            return Optional.empty();
        }
        MemorySegment details = insn.get(ADDRESS, detailOffset);
        if (details.equals(MemorySegment.NULL)) {
            return Optional.empty(); // Capstone gives no detail for data it decoded as ".byte"
        }
        return X86Detail.memoryOperand(details.reinterpret(X86Detail.byteSize()), this::registerName);
    }

    /** Capstone's name of register {@code id}, or "" for X86_REG_INVALID (no register). */
    private String registerName(int id) {
        if (id == 0) {
            return "";
        }
        try {
            MemorySegment name = (MemorySegment) n.regName.invokeExact(handle, id);
            return name.equals(MemorySegment.NULL) ? "" : name.reinterpret(16).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("cs_reg_name(" + id + ") failed", t);
        }
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
