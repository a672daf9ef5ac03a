package dev.kemu.bench;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.kernel.HypercallPort;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.X86Reg;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Raw emulation and the hypercall round trip on a bare machine: the same guest loops as
 * the C and Python drivers (bench/guest/loops.S). Results are per instruction / per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 7)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class EngineBenchmark {
    static final int RAW_ITERATIONS = 50_000_000;
    static final int CALLS = 2_000_000;

    private Machine machine;
    private Machine emptyHookMachine;

    @Setup(Level.Trial)
    public void setUp() {
        machine = BenchGuest.machineWithLoops();
        HypercallPort port = new HypercallPort();
        port.register(1, 2, (m, args) -> args[0] + args[1]);
        machine.attachHypercalls(GuestAbi.HYPERCALL_PORT, port);
        emptyHookMachine = BenchGuest.machineWithLoops();
        emptyHookMachine.attach(GuestAbi.HYPERCALL_PORT, (m, p, size, value) -> { });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        emptyHookMachine.close();
        machine.close();
    }

    /** Time per guest instruction, no hooks besides the (idle) port and interrupt hooks. */
    @Benchmark
    @OperationsPerInvocation(RAW_ITERATIONS * BenchGuest.RAW_LOOP_INSTRUCTIONS)
    public long rawInstruction() {
        machine.setRegister(X86Reg.RCX, RAW_ITERATIONS);
        return machine.run(BenchGuest.RAW_LOOP, RunLimits.UNCOUNTED).cpu().rip();
    }

    /** The floor under the hypercall: the same loop with a Java out hook that does nothing. */
    @Benchmark
    @OperationsPerInvocation(CALLS)
    public long emptyOutHook() {
        emptyHookMachine.setRegister(X86Reg.RCX, CALLS);
        return emptyHookMachine.run(BenchGuest.HYPERCALL_LOOP, RunLimits.UNCOUNTED).cpu().rip();
    }

    /** out 0xE6 -> Java reads the arguments (batched), computes, writes RAX -> guest. */
    @Benchmark
    @OperationsPerInvocation(CALLS)
    public long hypercallRoundTrip() {
        machine.setRegister(X86Reg.RCX, CALLS);
        return machine.run(BenchGuest.HYPERCALL_LOOP, RunLimits.UNCOUNTED).cpu().rip();
    }
}
