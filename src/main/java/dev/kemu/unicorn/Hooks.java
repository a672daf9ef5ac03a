package dev.kemu.unicorn;

/**
 * Java-side hook callbacks. They run on the emulating thread, inside {@code uc_emu_start}.
 * A callback that throws stops emulation; {@link Unicorn#start} then rethrows the exception.
 */
public final class Hooks {
    private Hooks() {}

    /** Before an instruction ({@code UC_HOOK_CODE}) or a basic block ({@code UC_HOOK_BLOCK}). */
    @FunctionalInterface
    public interface Code {
        void onCode(Unicorn uc, long address, int size);
    }

    /** A CPU exception or interrupt ({@code UC_HOOK_INTR}): every #PF, #GP, #UD and {@code int n}. */
    @FunctionalInterface
    public interface Interrupt {
        void onInterrupt(Unicorn uc, int vector);
    }

    /** An {@code in} instruction; returns the value read. */
    @FunctionalInterface
    public interface PortIn {
        int onIn(Unicorn uc, int port, int size);
    }

    /** An {@code out} instruction. */
    @FunctionalInterface
    public interface PortOut {
        void onOut(Unicorn uc, int port, int size, int value);
    }

    /** A {@code syscall} or {@code sysenter} instruction. */
    @FunctionalInterface
    public interface Syscall {
        void onSyscall(Unicorn uc);
    }

    /**
     * A memory access ({@code UC_HOOK_MEM_READ/WRITE/READ_AFTER}); type is a {@code uc_mem_type}.
     * Unicorn 2.1 accepts {@code UC_HOOK_MEM_FETCH} but never fires it on x86: use a code hook.
     */
    @FunctionalInterface
    public interface MemAccess {
        void onAccess(Unicorn uc, int type, long address, int size, long value);
    }

    /** An unmapped or protection event; return true to retry the access (after fixing the mapping). */
    @FunctionalInterface
    public interface MemEvent {
        boolean onEvent(Unicorn uc, int type, long address, int size, long value);
    }

    /** CPUID, RDTSC or RDTSCP about to run: true means the hook did its work (set the registers) and the CPU skips it. */
    @FunctionalInterface
    public interface SkippableInstruction {
        boolean onInstruction(Unicorn uc);
    }

    /** An invalid instruction; return true to continue, false to stop with {@link UcError#INSN_INVALID}. */
    @FunctionalInterface
    public interface InvalidInstruction {
        boolean onInvalid(Unicorn uc);
    }

    /**
     * A load from a memory-mapped region ({@code uc_cb_mmio_read_t}): {@code offset} from the
     * region's start, {@code size} 1, 2 or 4 bytes (2.1.4 splits an 8-byte access in two); returns the value (only its low
     * {@code size} bytes are used).
     */
    @FunctionalInterface
    public interface MmioRead {
        long onRead(Unicorn uc, long offset, int size);
    }

    /** A store to a memory-mapped region ({@code uc_cb_mmio_write_t}); {@code value} holds {@code size} bytes. */
    @FunctionalInterface
    public interface MmioWrite {
        void onWrite(Unicorn uc, long offset, int size, long value);
    }
}
