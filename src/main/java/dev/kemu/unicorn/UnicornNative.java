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

    final MethodHandle open;
    final MethodHandle close;
    final MethodHandle strerror;
    final MethodHandle errno;
    final MethodHandle memMap;
    final MethodHandle memMapPtr;
    final MethodHandle memUnmap;
    final MethodHandle memProtect;
    final MethodHandle memRegions;
    final MethodHandle memRead;
    final MethodHandle memWrite;
    final MethodHandle regRead;
    final MethodHandle regWrite;
    final MethodHandle regReadBatch;
    final MethodHandle regWriteBatch;
    final MethodHandle emuStart;
    final MethodHandle emuStop;
    final MethodHandle query;
    final MethodHandle hookAdd;
    final MethodHandle hookAddInsn;
    final MethodHandle hookDel;
    final MethodHandle free;
    final MethodHandle contextAlloc;
    final MethodHandle contextSave;
    final MethodHandle contextRestore;
    final MethodHandle contextFree;
    final MethodHandle contextSize;
    final MethodHandle ctl0;
    final MethodHandle ctlInt;
    final MethodHandle ctlLongLong;
    final MethodHandle ctlPtr;
    final MethodHandle ctlPtrLong;
    final MethodHandle vmemTranslate;
    final MethodHandle mmioMap;

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
        Linker linker = Linker.nativeLinker();
        this.source = located.source();
        this.lookup = lib;

        MethodHandle version = find(linker, lib, "uc_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
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

        Linker.Option critical = Linker.Option.critical(false);
        open = find(linker, lib, "uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        close = find(linker, lib, "uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        strerror = find(linker, lib, "uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        errno = find(linker, lib, "uc_errno", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        memMap = find(linker, lib, "uc_mem_map", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
        memMapPtr = find(linker, lib, "uc_mem_map_ptr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
        memUnmap = find(linker, lib, "uc_mem_unmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        memProtect = find(linker, lib, "uc_mem_protect",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
        memRegions = find(linker, lib, "uc_mem_regions", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        memRead = find(linker, lib, "uc_mem_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), critical);
        memWrite = find(linker, lib, "uc_mem_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), critical);
        regRead = find(linker, lib, "uc_reg_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), critical);
        regWrite = find(linker, lib, "uc_reg_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), critical);
        regReadBatch = find(linker, lib, "uc_reg_read_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), critical);
        regWriteBatch = find(linker, lib, "uc_reg_write_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), critical);
        emuStart = find(linker, lib, "uc_emu_start",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        emuStop = find(linker, lib, "uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS), critical);
        query = find(linker, lib, "uc_query", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), critical);
        // uc_hook_add is variadic after `end`; the instruction id of UC_HOOK_INSN is the variadic argument.
        FunctionDescriptor hookAddFixed = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG);
        hookAdd = find(linker, lib, "uc_hook_add", hookAddFixed, Linker.Option.firstVariadicArg(7));
        hookAddInsn = find(linker, lib, "uc_hook_add", hookAddFixed.appendArgumentLayouts(JAVA_INT),
                Linker.Option.firstVariadicArg(7));
        hookDel = find(linker, lib, "uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        free = find(linker, lib, "uc_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        contextAlloc = find(linker, lib, "uc_context_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        contextSave = find(linker, lib, "uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), critical);
        contextRestore = find(linker, lib, "uc_context_restore", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), critical);
        contextFree = find(linker, lib, "uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        contextSize = find(linker, lib, "uc_context_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // uc_ctl(uc, control, ...): one linkage per shape of variadic arguments used.
        Linker.Option ctlVariadic = Linker.Option.firstVariadicArg(2);
        ctl0 = find(linker, lib, "uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ctlVariadic);
        ctlInt = find(linker, lib, "uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ctlVariadic);
        ctlLongLong = find(linker, lib, "uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), ctlVariadic);
        ctlPtr = find(linker, lib, "uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), ctlVariadic);
        ctlPtrLong = find(linker, lib, "uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG), ctlVariadic);
        // uc_mmio_map(uc, address, size, read_cb, user_data_read, write_cb, user_data_write)
        mmioMap = find(linker, lib, "uc_mmio_map",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        vmemTranslate = lib.find("uc_vmem_translate")
                .map(symbol -> linker.downcallHandle(symbol,
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS)))
                .orElse(null);
    }

    private SymbolLookup lookup;

    MemorySegment function(String name) {
        return lookup.find(name).orElseThrow(() -> new NativeLibraryException("libunicorn at " + source + " lacks " + name));
    }

    String versionString() {
        return major + "." + minor + "." + patch;
    }

    private MethodHandle find(Linker linker, SymbolLookup lib, String name, FunctionDescriptor descriptor,
                              Linker.Option... options) {
        MemorySegment symbol = lib.find(name).orElseThrow(() -> new NativeLibraryException(
                "libunicorn at " + source + " has no symbol " + name + "; kemu needs Unicorn >= 2.1."));
        return linker.downcallHandle(symbol, descriptor, options);
    }
}
