package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionImport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The 20 functions Keystone's Emscripten build imports from module {@code a}, implemented for an
 * assembler that needs no files: no file opens, stats fail with ENOENT, the working directory is
 * {@code /}, writes to stdout/stderr are collected (some diagnostics arrive there), the heap grows
 * on request, and a C++ throw, abort or exit becomes a {@link KeystoneTrapException}.
 * The minified import names follow the package's {@code dist/keystone.js} glue.
 */
final class EmscriptenHost {
    // WASI errno values, as Emscripten's libc expects them.
    private static final int EBADF = 8;
    private static final int ENOENT = 44;
    private static final int ENOSYS = 52;
    private static final int ERANGE = 68;
    private static final int ESPIPE = 70;
    private static final int WASI_FILETYPE_CHARACTER_DEVICE = 2;
    private static final int WASM_PAGE = 65536;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();

    /** What the module wrote to stdout or stderr since the last {@link #takeConsole()}. */
    String takeConsole() {
        String text = console.toString(StandardCharsets.UTF_8);
        console.reset();
        return text;
    }

    ImportValues imports(WasmModule module) {
        Map<String, WasmFunctionHandle> byName = Map.ofEntries(
                Map.entry("a", (inst, args) -> trap("__cxa_throw: Keystone threw a C++ exception")),
                Map.entry("b", this::fdFdstatGet),
                Map.entry("c", (inst, args) -> i32(0)),                       // fd_close
                Map.entry("d", (inst, args) -> i32(-ENOENT)),                 // lstat64
                Map.entry("e", (inst, args) -> i32(-ENOENT)),                 // newfstatat
                Map.entry("f", (inst, args) -> i32(-ENOENT)),                 // stat64
                Map.entry("g", (inst, args) -> i32(-EBADF)),                  // fstat64
                Map.entry("h", (inst, args) -> trap("exit(" + args[0] + ") called inside Keystone")),
                Map.entry("i", (inst, args) -> i32(EBADF)),                   // fd_pread
                Map.entry("j", (inst, args) -> i32(ESPIPE)),                  // fd_seek
                Map.entry("k", (inst, args) -> i32(-ENOSYS)),                 // _mmap_js
                Map.entry("l", (inst, args) -> i32(-ENOSYS)),                 // _munmap_js
                Map.entry("m", (inst, args) -> i32(0)),                       // environ_get: no variables
                Map.entry("n", this::environSizesGet),
                Map.entry("o", this::getcwd),
                Map.entry("p", (inst, args) -> i32(-ENOENT)),                 // openat
                Map.entry("q", this::fdWrite),
                Map.entry("r", this::fdRead),
                Map.entry("s", this::resizeHeap),
                Map.entry("t", (inst, args) -> trap("abort() called inside Keystone")));
        List<HostFunction> functions = new ArrayList<>();
        module.importSection().stream()
                .filter(imp -> imp.importType() == ExternalType.FUNCTION)
                .map(FunctionImport.class::cast)
                .forEach(imp -> {
                    WasmFunctionHandle handle = byName.get(imp.name());
                    if (!"a".equals(imp.module()) || handle == null) {
                        throw new KeystoneUnavailableException("Keystone's module imports " + imp.module() + "."
                                + imp.name() + ", which kemu does not provide: is it the 0.9.2 build of "
                                + "@alexaltea/keystone-js? Re-run scripts/natives.sh.");
                    }
                    functions.add(new HostFunction(imp.module(), imp.name(),
                            module.typeSection().getType(imp.typeIndex()), handle));
                });
        return ImportValues.builder().withFunctions(new ArrayList<>(functions)).build();
    }

    private static long[] i32(int value) {
        return new long[] {value};
    }

    private static long[] trap(String what) {
        throw new KeystoneTrapException(what);
    }

    private long[] fdFdstatGet(Instance instance, long... args) {
        int fd = (int) args[0];
        if (fd < 0 || fd > 2) {
            return i32(EBADF);
        }
        Memory memory = instance.memory();
        int buf = (int) args[1];
        memory.write(buf, new byte[24]);
        memory.writeByte(buf, (byte) WASI_FILETYPE_CHARACTER_DEVICE);
        return i32(0);
    }

    private long[] environSizesGet(Instance instance, long... args) {
        instance.memory().writeI32((int) args[0], 0);
        instance.memory().writeI32((int) args[1], 0);
        return i32(0);
    }

    private long[] getcwd(Instance instance, long... args) {
        int buf = (int) args[0];
        int size = (int) args[1];
        if (size < 2) {
            return i32(-ERANGE);
        }
        instance.memory().writeByte(buf, (byte) '/');
        instance.memory().writeByte(buf + 1, (byte) 0);
        return i32(2);
    }

    /** fd_write(fd, iov, iovcnt, *nwritten): stdout and stderr are collected, other descriptors refused. */
    private long[] fdWrite(Instance instance, long... args) {
        int fd = (int) args[0];
        if (fd != 1 && fd != 2) {
            return i32(EBADF);
        }
        Memory memory = instance.memory();
        int iov = (int) args[1];
        int written = 0;
        for (int i = 0; i < (int) args[2]; i++) {
            int base = memory.readInt(iov + 8 * i);
            int length = memory.readInt(iov + 8 * i + 4);
            console.writeBytes(memory.readBytes(base, length));
            written += length;
        }
        memory.writeI32((int) args[3], written);
        return i32(0);
    }

    /** fd_read: there is no input; zero bytes read. */
    private long[] fdRead(Instance instance, long... args) {
        instance.memory().writeI32((int) args[3], 0);
        return i32(0);
    }

    /** emscripten_resize_heap(requested bytes): 1 when memory now holds that many bytes, else 0. */
    private long[] resizeHeap(Instance instance, long... args) {
        long requested = args[0] & 0xffff_ffffL;
        Memory memory = instance.memory();
        long have = (long) memory.pages() * WASM_PAGE;
        if (requested <= have) {
            return i32(1);
        }
        // Grow by at least a fifth, as Emscripten's glue does, so repeated small requests stay cheap.
        long target = Math.max(requested, have + have / 5);
        int pages = (int) ((target - have + WASM_PAGE - 1) / WASM_PAGE);
        return i32(memory.grow(pages) < 0 ? 0 : 1);
    }
}
