package dev.kemu.bench;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What --kasan costs: kmalloc(32) + a write and a read of the object + kfree from guest code, with
 * and without --kasan (which adds red zones, tracks and one memory hook per slab). Each invocation
 * boots the kernel afresh (about 8000 instructions to kmain, small against the loop).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class KasanBenchmark {
    static final int PAIRS = 20_000;

    @Param({"false", "true"})
    public boolean kasan;

    private ElfImage firmware;
    private MultibootKernel kernel;
    private KernelBoot boot;

    @Setup(Level.Trial)
    public void build() throws IOException {
        Path dir = Files.createTempDirectory("kasan-bench");
        KernelSources.BuiltImages images = TestKernels.withKmain(dir, """
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    mov r12d, %d
                1:  mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov qword ptr [rax], r12
                    mov rcx, qword ptr [rax + 8]
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    dec r12d
                    jnz 1b
                    xor eax, eax
                    out EXIT_PORT, al
                2:  hlt
                    jmp 2b
                """.formatted(PAIRS));
        firmware = ElfImage.read(images.firmware());
        kernel = MultibootKernel.read(images.kernel());
    }

    @Setup(Level.Invocation)
    public void load() {
        boot = new KernelBoot(firmware, kernel, BootOptions.defaults());
        boot.services().kasan(kasan);
    }

    @TearDown(Level.Invocation)
    public void close() {
        boot.close();
    }

    /** One kmalloc + two accesses + kfree, per pair. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long kmallocKfreePair() {
        var report = boot.run();
        if (report.run().reason() != StopReason.EXIT_PORT) {
            throw new IllegalStateException("the benchmark guest stopped early: " + report.run());
        }
        if (!boot.services().kasanReports().isEmpty()) {
            throw new IllegalStateException("false positive: " + boot.services().kasanReports().getFirst().text());
        }
        return report.run().instructions();
    }
}
