package dev.kemu.testing;

import dev.kemu.debug.FaultPolicy;
import dev.kemu.unicorn.X86Reg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What a test uses to run guest code in a freshly restored kernel:
 *
 * <pre>{@code
 * @ExtendWith(KemuExtension.class)
 * class AddTest {
 *     @Test
 *     void add_twoAndThree_isFive(Guest guest) {
 *         GuestRun run = guest.set(X86Reg.RDI, 2).run("lea rax, [rdi + 3]");
 *         assertEquals(5, run.rax());
 *     }
 * }
 * }</pre>
 *
 * Code runs at {@link TestMachine#CODE_VA} (near the kernel, so {@code call kernel_routine} works) in kernel mode, on a 16 KiB stack, with the memory
 * services ready, and ends when it falls through its last instruction.
 */
public final class Guest {
    public static final long DEFAULT_BUDGET = 1_000_000;

    private final TestMachine machine;
    private final Map<Integer, Long> registers = new LinkedHashMap<>();
    private long budget = DEFAULT_BUDGET;
    private Duration wallClockLimit;
    private FaultPolicy onFault;
    private final FaultPolicy bootPolicy;
    private GuestRun last;

    Guest(TestMachine machine) {
        this.machine = machine;
        this.bootPolicy = machine.boot().faults().policy();
    }

    /**
     * What this test's runs do with a fault that demand paging does not resolve: {@link FaultPolicy#DELIVER}
     * runs the kernel's own handler from its IDT (to test a #PF handler), {@link FaultPolicy#REPORT} stops
     * with a report. Until called, the policy the machine was booted with.
     */
    public Guest onFault(FaultPolicy policy) {
        this.onFault = java.util.Objects.requireNonNull(policy, "fault policy");
        return this;
    }

    /** Sets a register for the next run (RIP and RSP are set by the harness). */
    public Guest set(int register, long value) {
        registers.put(register, value);
        return this;
    }

    /** The instruction budget of the next run; a runaway snippet ends there. */
    public Guest budget(long instructions) {
        this.budget = instructions;
        return this;
    }

    /**
     * The wall-clock limit of the next runs, a last resort against host code inside a hypercall that
     * does not return (the budget cannot stop Java code); default {@code -Dkemu.guest.timeout}, 30 s.
     */
    public Guest wallClockLimit(Duration limit) {
        this.wallClockLimit = limit;
        return this;
    }

    public GuestRun run(String assembly) {
        return run(assembly, SnippetAssembler.INLINE);
    }

    private GuestRun run(String assembly, String origin) {
        return run(limit -> machine.run(assembly, origin, registers, budget, limit));
    }

    /**
     * Runs guest code in C (gcc, {@code -ffreestanding -mno-red-zone -mcmodel=kernel}): the source defines
     * {@code long kemu_test(void)}, called like a snippet's {@code call}; its result is {@code run.rax()}. It may
     * call the kernel's functions by name (declare them {@code extern}).
     */
    public GuestRun runC(String source) {
        return run(limit -> machine.runC(source, SnippetAssembler.INLINE + ".c", registers, budget, limit));
    }

    private GuestRun run(java.util.function.Function<Duration, GuestRun> runner) {
        machine.faultPolicy(onFault != null ? onFault : bootPolicy);
        try {
            last = runner.apply(wallClockLimit != null ? wallClockLimit : RunWatchdog.configuredLimit());
        } finally {
            registers.clear();
            machine.faultPolicy(bootPolicy);
        }
        return last;
    }

    /**
     * Runs an assembly file, or a C file ({@code .c}, as {@link #runC}): a path relative to the project directory ({@link ProjectFiles}), e.g.
     * {@code src/test/guest/x.S}, or absolute. Assembler messages name that file and its own lines.
     */
    public GuestRun runFile(String path) {
        Path file = ProjectFiles.resolve(path);
        try {
            String source = Files.readString(file);
            if (file.getFileName().toString().endsWith(".c")) {
                return run(limit -> machine.runC(source, file.toString(), registers, budget, limit));
            }
            return run(source, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read guest code " + file + " (relative paths are resolved against "
                    + "the project directory " + ProjectFiles.directory() + ")", e);
        }
    }

    /** Calls the kernel routine {@code symbol} with up to six arguments in the SysV registers. */
    public GuestRun call(String symbol, long... args) {
        int[] order = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.RCX, X86Reg.R8, X86Reg.R9};
        if (args.length > order.length) {
            throw new IllegalArgumentException("at most six register arguments");
        }
        for (int i = 0; i < args.length; i++) {
            registers.put(order[i], args[i]);
        }
        return run("    call " + symbol);
    }

    /** The last run, for failure messages. */
    public GuestRun lastRun() {
        return last;
    }

    public TestMachine machine() {
        return machine;
    }

    @Override
    public String toString() {
        StringJoiner text = new StringJoiner(", ", "Guest[", "]");
        registers.forEach((r, v) -> text.add(r + "=0x" + Long.toHexString(v)));
        return text.toString();
    }
}
