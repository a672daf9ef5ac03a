package dev.kemu.unicorn;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.nativelib.NativeLibraryLocator;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every FFM downcall handle into libunicorn, in one place. Loaded once per JVM; the library
 * version is checked before anything else is linked, so a 2.0.x library is refused with a
 * message instead of running a higher-half kernel wrongly.
 */
final class UnicornNative {
    static final int MIN_MAJOR = 2;
    static final int MIN_MINOR = 1;

    private static final NativeLibraryLocator LOCATOR = new NativeLibraryLocator(
            "libunicorn", "UNICORN_LIB", ".native/unicorn/lib", List.of("libunicorn.so.2"),
            "kemu needs Unicorn >= 2.1 (2.1.4 preferred): run `make natives` (or scripts/natives.sh), "
                    + "or set UNICORN_LIB=/path/to/libunicorn.so.2.");

    private static volatile UnicornNative instance;

    final String source;
    final int major;
    final int minor;
    final int patch;

    private final SymbolLookup lookup;
    private final Linker linker = Linker.nativeLinker();
    /** The downcall handles made so far, by {@link Function#ordinal()}. */
    private final MethodHandle[] linked = new MethodHandle[Function.values().length];

    /**
     * Every libunicorn function kemu calls. A downcall handle is linked on first use: linking spins classes
     * (tens of them for the whole table, a good part of {@code ./kemu boot}'s start-up, docs/startup.md),
     * and a boot uses about half of the functions. Every symbol is still looked up when the library loads,
     * so that a library without one is refused there, as before.
     */
    enum Function {
        OPEN("uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)),
        CLOSE("uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
        STRERROR("uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT)),
        ERRNO("uc_errno", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
        MEM_MAP("uc_mem_map", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT)),
        MEM_MAP_PTR("uc_mem_map_ptr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS)),
        MEM_UNMAP("uc_mem_unmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG)),
        MEM_PROTECT("uc_mem_protect", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT)),
        MEM_REGIONS("uc_mem_regions", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)),
        MEM_READ("uc_mem_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL),
        MEM_WRITE("uc_mem_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL),
        REG_READ("uc_reg_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL),
        REG_WRITE("uc_reg_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL),
        REG_READ_BATCH("uc_reg_read_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                CRITICAL),
        REG_WRITE_BATCH("uc_reg_write_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                CRITICAL),
        EMU_START("uc_emu_start", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG)),
        EMU_STOP("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL),
        // uc_hook_add is variadic after `end`; the instruction id of UC_HOOK_INSN is the variadic argument.
        HOOK_ADD("uc_hook_add", HOOK_ADD_FIXED, Linker.Option.firstVariadicArg(7)),
        HOOK_ADD_INSN("uc_hook_add", HOOK_ADD_FIXED.appendArgumentLayouts(JAVA_INT), Linker.Option.firstVariadicArg(7)),
        HOOK_DEL("uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG)),
        FREE("uc_free", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
        CONTEXT_ALLOC("uc_context_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
        CONTEXT_SAVE("uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CRITICAL),
        CONTEXT_RESTORE("uc_context_restore", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CRITICAL),
        CONTEXT_FREE("uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
        CONTEXT_SIZE("uc_context_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS)),
        // uc_ctl(uc, control, ...): one linkage per shape of variadic arguments used.
        CTL_0("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CTL_VARIADIC),
        CTL_INT("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CTL_VARIADIC),
        CTL_LONG_LONG("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), CTL_VARIADIC),
        CTL_PTR("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CTL_VARIADIC),
        CTL_PTR_LONG("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG), CTL_VARIADIC),
        // uc_mmio_map(uc, address, size, read_cb, user_data_read, write_cb, user_data_write)
        MMIO_MAP("uc_mmio_map",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
        // optional: only in libraries with the vmem translation API
        VMEM_TRANSLATE("uc_vmem_translate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));

        final String symbol;
        final FunctionDescriptor descriptor;
        final Linker.Option[] options;

        Function(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
            this.symbol = symbol;
            this.descriptor = descriptor;
            this.options = options;
        }
    }

    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final Linker.Option CTL_VARIADIC = Linker.Option.firstVariadicArg(2);
    private static final FunctionDescriptor HOOK_ADD_FIXED = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
            JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG);

    /** Whether libunicorn {@code major.minor} can run kemu's guests: 2.1 removed the soft-MMU hacks of 2.0. */
    static boolean supported(int major, int minor) {
        return major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR);
    }

    static UnicornNative get() {
        UnicornNative loaded = instance;
        if (loaded == null) {
            synchronized (UnicornNative.class) {
                loaded = instance;
                if (loaded == null) {
                    loaded = new UnicornNative();
                    instance = loaded;
                }
            }
        }
        return loaded;
    }

    private UnicornNative() {
        NativeLibraryLocator.Located located = LOCATOR.load(Arena.global());
        SymbolLookup lib = located.lookup();
        this.source = located.source();
        this.lookup = lib;

        MethodHandle version = linker.downcallHandle(symbol(lib, "uc_version"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        int combined;
        try {
            combined = (int) version.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new NativeLibraryException("uc_version failed in " + source, t);
        }
        // uc_version packs major << 24 | minor << 16 | patch << 8 | extra.
        major = (combined >>> 24) & 0xff;
        minor = (combined >>> 16) & 0xff;
        patch = (combined >>> 8) & 0xff;
        if (!supported(major, minor)) {
            throw new NativeLibraryException("libunicorn " + versionString() + " found at " + source
                    + " is too old: its soft-MMU checks virtual addresses against the physical map, so a "
                    + "higher-half kernel cannot run. kemu needs Unicorn >= 2.1 (2.1.4 preferred): run "
                    + "`make natives`, or set UNICORN_LIB=/path/to/libunicorn.so.2 (2.1 or newer).");
        }

        for (Function function : Function.values()) {
            if (function != Function.VMEM_TRANSLATE) {
                symbol(lib, function.symbol);
            }
        }
    }

    MemorySegment function(String name) {
        return lookup.find(name).orElseThrow(() -> new NativeLibraryException("libunicorn at " + source + " lacks " + name));
    }

    String versionString() {
        return major + "." + minor + "." + patch;
    }

    /**
     * The downcall handle of {@code function}, linked on first use. Linking holds the function's lock, so that a
     * thread that needs it meanwhile waits for that work instead of repeating it ({@code dev.kemu.cli.NativeWarmUp}).
     */
    MethodHandle handle(Function function) {
        MethodHandle handle = linked[function.ordinal()];
        return handle != null ? handle : link(function);
    }

    private MethodHandle link(Function function) {
        synchronized (function) {
            MethodHandle handle = linked[function.ordinal()];
            if (handle == null) {
                handle = linker.downcallHandle(symbol(lookup, function.symbol), function.descriptor, function.options);
                linked[function.ordinal()] = handle;
            }
            return handle;
        }
    }

    /** Whether the library has {@code uc_vmem_translate} (not every 2.1 build does). */
    boolean hasVmemTranslate() {
        return lookup.find(Function.VMEM_TRANSLATE.symbol).isPresent();
    }

    private MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new NativeLibraryException(
                "libunicorn at " + source + " has no symbol " + name + "; kemu needs Unicorn >= 2.1."));
    }
}
