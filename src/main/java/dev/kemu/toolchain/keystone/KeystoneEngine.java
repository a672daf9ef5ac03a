package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;

import java.nio.charset.StandardCharsets;

/**
 * One Keystone instance (x86, 64-bit mode, Intel syntax) inside one WebAssembly instance. Not
 * thread-safe: use one per thread. {@code ks_option} is never called: any call switches the
 * handle's number parsing to hexadecimal for its life (upstream bug), and Intel is the default.
 * After a trap the engine is {@link #broken()}; make a new one.
 */
public final class KeystoneEngine implements AutoCloseable {
    private static final int KS_ARCH_X86 = 4;
    private static final int KS_MODE_64 = 1 << 3;
    private static final int KS_ERR_OK = 0;

    /** What one {@code ks_asm} call produced. */
    public record Output(byte[] bytes, long statements) {
    }

    /** {@code ks_asm} failed; {@code code} is Keystone's {@code ks_err}. */
    public record Failure(int code, String message, String console) {
    }

    /** Either output or a failure, never both. */
    public record Result(Output output, Failure failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    private final EmscriptenHost host = new EmscriptenHost();
    private final Instance instance;
    private final Memory memory;
    private final ExportFunction ksAsm;
    private final ExportFunction ksErrno;
    private final ExportFunction ksStrerror;
    private final ExportFunction ksFree;
    private final ExportFunction malloc;
    private final ExportFunction free;
    private final int handle;
    private boolean broken;

    /** An engine on this JVM's {@link KeystoneModule#execution()}; see {@link #create()}. */
    public KeystoneEngine() {
        this(KeystoneModule.execution());
    }

    /**
     * An engine on this JVM's execution; when compiled classes that loaded fail while the module starts
     * (a class missing, a verify error), the JVM switches to the interpreter and the engine is made there.
     */
    public static KeystoneEngine create() {
        KeystoneModule.Execution execution = KeystoneModule.execution();
        if (!execution.isCompiled()) {
            return new KeystoneEngine(execution);
        }
        try {
            return new KeystoneEngine(execution);
        } catch (KeystoneUnavailableException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            return new KeystoneEngine(KeystoneModule.compiledFailed(e));
        }
    }

    /** An engine on {@code execution}: its compiled classes, or the interpreter when it has none. */
    KeystoneEngine(KeystoneModule.Execution execution) {
        Instance.Builder builder = Instance.builder(KeystoneModule.get())
                .withImportValues(host.imports(KeystoneModule.get()));
        if (execution.isCompiled()) {
            builder.withMachineFactory(execution.compiled());
        }
        instance = builder.build();
        memory = instance.memory();
        instance.export("v").apply();                       // __wasm_call_ctors, once
        ksAsm = instance.export("E");
        ksErrno = instance.export("x");
        ksStrerror = instance.export("y");
        ksFree = instance.export("D");
        malloc = instance.export("G");
        free = instance.export("H");
        int slot = allocate(4);
        try {
            int err = (int) instance.export("A").apply(KS_ARCH_X86, KS_MODE_64, slot)[0];   // ks_open
            if (err != KS_ERR_OK) {
                throw new KeystoneUnavailableException("ks_open(x86, 64-bit) failed: " + strerror(err));
            }
            handle = memory.readInt(slot);
        } finally {
            free.apply(slot);
        }
    }

    /** Keystone's version as major.minor. */
    public String version() {
        long packed = instance.export("w").apply(0, 0)[0];
        return (packed >> 8 & 0xff) + "." + (packed & 0xff);
    }

    public boolean broken() {
        return broken;
    }

    /**
     * Assembles {@code source} (statements separated by newlines or {@code ;}) as if placed at
     * {@code address}. Throws {@link KeystoneTrapException} when the module traps.
     */
    public Result assemble(String source, long address) {
        if (broken) {
            throw new IllegalStateException("this Keystone engine trapped earlier; create a new one");
        }
        byte[] text = source.getBytes(StandardCharsets.UTF_8);
        int src = allocate(text.length + 1);
        int outputs = allocate(24);   // encoding*, size_t size, size_t count (4 bytes each, padded)
        try {
            memory.write(src, text);
            memory.writeByte(src + text.length, (byte) 0);
            memory.write(outputs, new byte[24]);
            int err = (int) ksAsm.apply(handle, src, address, outputs, outputs + 8, outputs + 16)[0];
            String console = host.takeConsole();
            if (err != KS_ERR_OK) {
                int code = (int) ksErrno.apply(handle)[0];
                return new Result(null, new Failure(code, strerror(code), console));
            }
            int encoding = memory.readInt(outputs);
            int size = memory.readInt(outputs + 8);
            long count = memory.readU32(outputs + 16);
            byte[] bytes = size == 0 ? new byte[0] : memory.readBytes(encoding, size);
            if (encoding != 0) {
                ksFree.apply(encoding);
            }
            return new Result(new Output(bytes, count), null);
        } catch (KeystoneTrapException e) {
            broken = true;
            throw e;
        } catch (RuntimeException e) {
            broken = true;
            throw new KeystoneTrapException("Keystone's module trapped: " + e, e);
        } finally {
            if (!broken) {
                free.apply(src);
                free.apply(outputs);
            }
        }
    }

    private String strerror(int code) {
        return memory.readCString((int) ksStrerror.apply(code)[0]);
    }

    private int allocate(int bytes) {
        int pointer = (int) malloc.apply(bytes)[0];
        if (pointer == 0) {
            broken = true;
            throw new KeystoneTrapException("malloc(" + bytes + ") failed inside Keystone's module");
        }
        return pointer;
    }

    /** The WebAssembly instance holds no native resources; closing only drops the Keystone handle. */
    @Override
    public void close() {
        if (!broken) {
            instance.export("B").apply(handle);
            broken = true;
        }
    }
}
