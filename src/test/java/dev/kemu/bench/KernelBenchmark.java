package dev.kemu.bench;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.StopReason;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.TestMachine;
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

import java.util.Map;
import java.util.concurrent.TimeUnit;

/** kemu's own paths on a booted kernel: demand paging, kmalloc/kfree, snapshot reset, boot. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class KernelBenchmark {
    static final int FAULT_PAGES = 400;
    static final int PAIRS = 200_000;

    private TestMachine machine;
    /** A booted kernel without the test harness's snapshots and write tracking: what a kernel pays. */
    private TestMachine kernelOnly;

    @Setup(Level.Trial)
    public void setUp() {
        machine = new TestMachine(0);
        kernelOnly = new TestMachine(0, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernelOnly.close();
        machine.close();
    }

    private GuestRun run(String code) {
        return run(machine, code);
    }

    private static GuestRun run(TestMachine machine, String code) {
        GuestRun run = machine.run(code, Map.of(), 0);
        if (run.stopReason() != StopReason.REACHED_END) {
            throw new IllegalStateException(run.describe());
        }
        return run;
    }

    /** #PF -> Java: VMA lookup, buddy frame, page-table map, TLB flush, #DF workaround -> restart. */
    @Benchmark
    @OperationsPerInvocation(FAULT_PAGES)
    public long demandPagingFault() {
        return run("""
                    mov edi, %d * 4096
                    mov esi, PTE_WRITABLE
                    HYPERCALL HC_VMA_RESERVE
                    mov rdi, rax
                    mov ecx, %d
                1:  mov qword ptr [rdi], rcx
                    add rdi, 4096
                    dec rcx
                    jnz 1b
                """.formatted(FAULT_PAGES, FAULT_PAGES)).rax();
    }

    /** kmalloc + kfree from guest code, sizes cycling through 8 B .. 4 KiB. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long kmallocKfreePair() {
        return run(kernelOnly, """
                    mov r12d, %d
                    xor r13d, r13d
                1:  lea rax, [rip + sizes]
                    mov edi, dword ptr [rax + r13 * 4]
                    inc r13d
                    and r13d, 7
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    dec r12d
                    jnz 1b
                .section .rodata
                sizes: .long 8, 24, 64, 100, 256, 700, 2048, 4096
                """.formatted(PAIRS)).rax();
    }

    @State(Scope.Thread)
    public static class Dirty {
        @Param({"2", "16", "256"})
        public int pages;
    }

    /** Restore of the booted 64 MiB machine after a test dirtied {@code pages} pages. */
    @Benchmark
    public long reset(Dirty dirty) {
        for (int i = 0; i < dirty.pages; i++) {
            machine.machine().ram().write64((0x800L + i * 3L) * 4096, i + 1);
        }
        return machine.reset();
    }

    /** The images, read and parsed once: the C driver also reads its files once. */
    @State(Scope.Thread)
    public static class Images {
        ElfImage firmware;
        MultibootKernel kernel;

        @Setup(Level.Trial)
        public void build() {
            KernelSources.BuiltImages images = KernelSources.defaults().build();
            firmware = ElfImage.read(images.firmware());
            kernel = MultibootKernel.read(images.kernel());
        }
    }

    /** New engine, 64 MiB, load, boot through every mode switch to kmain, close: as the C driver. */
    @Benchmark
    public long bootToKmain(Images images) {
        try (KernelBoot boot = new KernelBoot(images.firmware, images.kernel, BootOptions.defaults())) {
            return boot.runTo("kmain").cpu().rip();
        }
    }
}
