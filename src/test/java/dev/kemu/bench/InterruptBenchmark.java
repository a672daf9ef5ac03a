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
 * External interrupts on the booted kernel (issue 13): the timer interrupt round trip (PIT IRQ0 through
 * the PIC, a handler with EOI, iretq), and a compute loop with a 1 kHz virtual timer against the same
 * loop with no interrupt hardware programmed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class InterruptBenchmark extends GuestCodeBenchmark {
    static final int TICKS = 1000;
    static final int LOOP = 1_000_000;

    /** Vector 0x20 -> `tick`, PIC remapped to 0x20 with only IRQ0 unmasked; RDI, RAX used. */
    private static final String SETUP = """
                lea rdi, [rip + bench_idt]
                lea rax, [rip + tick]
                mov word ptr [rdi + 0x20 * 16], ax
                mov word ptr [rdi + 0x20 * 16 + 2], 0x08
                mov word ptr [rdi + 0x20 * 16 + 4], 0x8E00
                shr rax, 16
                mov word ptr [rdi + 0x20 * 16 + 6], ax
                shr rax, 16
                mov dword ptr [rdi + 0x20 * 16 + 8], eax
                lidt [rip + bench_idtr]
                mov al, 0x11
                out 0x20, al
                mov al, 0x20
                out 0x21, al
                mov al, 0x04
                out 0x21, al
                mov al, 0x01
                out 0x21, al
                mov al, 0xfe
                out 0x21, al
                mov al, 0x34                  # PIT channel 0, lobyte/hibyte, mode 2
                out 0x43, al
                mov ax, %d
                out 0x40, al
                mov al, ah
                out 0x40, al
            """;

    private static final String DATA = """
                jmp 9f
            tick:
                inc r12
                push rax
                mov al, 0x20
                out 0x20, al
                pop rax
                iretq
            9:
                .section .data
                .align 16
            bench_idtr:
                .word 256 * 16 - 1
                .quad bench_idt
                .align 16
            bench_idt: .skip 256 * 16
            """;


    /** One timer interrupt: hlt sleeps to the PIT deadline, delivery through the IDT, handler with EOI, iretq. */
    @Benchmark
    @OperationsPerInvocation(TICKS)
    public long timerInterruptRoundTrip() {
        return run(SETUP.formatted(2) + """
                    xor r12, r12
                    sti
                1:  hlt
                    cmp r12, %d
                    jb 1b
                    cli
                """.formatted(TICKS) + DATA).rax();
    }

    /** A dec/jnz loop (two instructions an iteration) while a 1 kHz virtual PIT interrupts it. */
    @Benchmark
    @OperationsPerInvocation(2 * LOOP)
    public long computeLoopWithTimer1kHz() {
        return run(SETUP.formatted(1193) + """
                    xor r12, r12
                    sti
                    mov ecx, %d
                1:  dec ecx
                    jnz 1b
                    cli
                    mov rax, r12
                """.formatted(LOOP) + DATA).rax();
    }

    /** The same loop with no interrupt hardware programmed: the engine runs it at full speed. */
    @Benchmark
    @OperationsPerInvocation(2 * LOOP)
    public long computeLoopInterruptsOff() {
        return run("""
                    mov ecx, %d
                1:  dec ecx
                    jnz 1b
                """.formatted(LOOP)).rax();
    }
}
