package dev.kemu.machine;

import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Insn;

/**
 * The per-JVM native work a machine's first use does, on demand: the first FFM use (guest RAM), libunicorn's
 * downcall handles, the upcall stubs of the hook shapes a boot installs (port I/O, memory events, code, CPUID,
 * MMIO) and the calibration of the CPU-context fields ({@link ExceptionState}, {@link PrivilegeState}). All of it
 * is shared by every later machine, and each piece is synchronised, so a caller may run this on another thread
 * while it gets ready to boot ({@code dev.kemu.cli.NativeWarmUp}); a machine made meanwhile waits for or does
 * what is not ready yet.
 */
public final class NativeSetUp {
    /** A throwaway machine's RAM, the least that maps like a boot's. */
    private static final long RAM = 1 << 20;
    private static final long MMIO = 0x10_0000;

    private NativeSetUp() {}

    /** Does the work now; throws what a machine would throw (a missing library, a failed calibration). */
    public static void prepare() {
        try (Machine machine = new Machine(RAM)) {
            machine.ram();
        }
        try (Unicorn engine = Unicorn.openX86_64()) {
            engine.hookCode(1, 0, (uc, address, size) -> {}).remove();
            engine.hookSkippable(X86Insn.CPUID, uc -> false).remove();
            engine.mmioMap(MMIO, 0x1000, (uc, offset, size) -> 0, (uc, offset, size, value) -> {}).close();
            engine.memMap(0, 0x1000, Prot.ALL);
            engine.flushTlb();
        }
        ExceptionState.get();
        PrivilegeState.get();
    }
}
