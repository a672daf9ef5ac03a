package dev.kemu.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Address spaces from guest code, each run a prefix of the next so that the differences are the
 * figures: {@link #spaceFill} (first writes in a space, per page), {@link #spaceFork} (the same
 * plus one clone of the 1,000 touched pages: fork = spaceFork - 1000 x spaceFill) and
 * {@link #spaceCowFault} (plus 1,000 writes in the child, each a copy-on-write fault: per fault =
 * spaceCowFault - spaceFork / 1000). KernelBenchmark.demandPagingFault is the figure to compare with.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SpacesBenchmark extends GuestCodeBenchmark {
    static final int PAGES = 1000;

    private static final String FILL = """
                HYPERCALL HC_SPACE_CREATE
                mov r12, rax
                mov rdi, r12
                mov esi, 0x400000
                mov edx, %d * 4096
                mov r10d, 6
                HYPERCALL HC_SPACE_MAP
                mov rbx, cr3
                mov cr3, r12
                mov edi, 0x400000
                mov ecx, %d
            1:  mov qword ptr [rdi], rcx
                add rdi, 4096
                dec rcx
                jnz 1b
                mov cr3, rbx
            """.formatted(PAGES, PAGES);
    private static final String FORK = """
                mov rdi, r12
                HYPERCALL HC_SPACE_CLONE
                mov r13, rax
            """;
    private static final String CHILD_WRITES = """
                mov cr3, r13
                mov edi, 0x400000
                mov ecx, %d
            2:  mov qword ptr [rdi], rcx
                add rdi, 4096
                dec rcx
                jnz 2b
                mov cr3, rbx
            """.formatted(PAGES);


    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long spaceFill() {
        return run(FILL).rax();
    }

    @Benchmark
    public long spaceFork() {
        return run(FILL + FORK).rax();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long spaceCowFault() {
        return run(FILL + FORK + CHILD_WRITES).rax();
    }
}
