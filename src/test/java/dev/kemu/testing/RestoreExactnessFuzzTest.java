package dev.kemu.testing;

import dev.kemu.unicorn.X86Reg;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.kemu.fuzz.CampaignSettings;
import dev.kemu.fuzz.FuzzCorpus;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AddLifecycleHook;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random guest programs (random bytes, random instructions including privileged ones, stores of
 * every size and alignment to kernel, direct-map, low and stack addresses, page-table switches,
 * memory services), each followed by an exactness check of the whole machine: after a reset,
 * all of guest RAM (not only the pages the tracker reported) and every register equal the
 * pristine snapshot, and no translated code survives (known routines give their known answers).
 *
 * <p>Each try checks {@code -Dkemu.fuzz.programs=N} programs (default 1), {@code -Dkemu.fuzz.tries}
 * and {@code -Dkemu.fuzz.seed} set the tries and seed, {@code -Dkemu.fuzz.ram=MiB} a smaller machine
 * (the whole-RAM comparison is most of a program's cost); a failure prints jqwik's seed and
 * the shrunk program, and with {@code -Dkemu.fuzz.corpus=DIR} writes it into the corpus. An
 * exception escaping a run is a failure too. The corpus programs ({@code fuzz-corpus/programs})
 * are replayed by {@link #corpusProgram_thenReset_restoresAllRamRegistersAndCode}.
 */
class RestoreExactnessFuzzTest {
    private static final int PROGRAMS_PER_TRY = Integer.getInteger("kemu.fuzz.programs", 1);
    private static final long BUDGET = 3000;
    private static final long CORPUS_BUDGET = 100_000;
    private static TestMachine machine;
    private static MachineImage pristine;
    private static long programsRun;

    /** A random guest program: assembly lines run as one snippet. */
    record Program(List<String> parts) {
        String source() {
            return parts.stream().map(part -> part.indent(4)).collect(Collectors.joining());
        }

        @Override
        public String toString() {
            return "\n" + source();
        }
    }

    @BeforeContainer
    static void boot() {
        Integer ramMiB = Integer.getInteger("kemu.fuzz.ram");
        machine = ramMiB == null ? new TestMachine() : new TestMachine((long) ramMiB << 20);
        machine.reset();
        pristine = new MachineImage(machine.machine());
    }

    @AfterContainer
    static void close() {
        System.out.printf("kemu.fuzz: %d random and corpus programs checked for an exact restore%n", programsRun);
        pristine.close();
        machine.close();
    }

    @Property(tries = 20, shrinking = ShrinkingMode.FULL)
    @AddLifecycleHook(CampaignSettings.class)
    void randomProgram_thenReset_restoresAllRamRegistersAndCode(@ForAll("programBatches") List<Program> programs) {
        for (Program program : programs) {
            try {
                checkExactRestore(program.source(), BUDGET);
            } catch (AssertionError | RuntimeException failure) {
                // Shrinking overwrites the file, so it ends as the shrunk program.
                FuzzCorpus.recordFailure("programs", "restore", ".S", "# found by RestoreExactnessFuzzTest: "
                        + failure.toString().lines().findFirst().orElse("") + "\n# budget: " + BUDGET + "\n" + program.source());
                throw failure;
            }
        }
    }

    /** Every reproduction in the corpus, once each: the crashes and inexact restores fuzzing found. */
    @Property(generation = GenerationMode.EXHAUSTIVE, tries = 10_000)
    void corpusProgram_thenReset_restoresAllRamRegistersAndCode(@ForAll("corpusPrograms") Path file) {
        String source = FuzzCorpus.read(file);
        long budget = source.lines().filter(line -> line.startsWith("# budget:")).findFirst()
                .map(line -> Long.parseLong(line.substring("# budget:".length()).strip())).orElse(CORPUS_BUDGET);
        checkExactRestore(source.replaceAll("(?m)^#.*$", ""), budget);
    }

    @Provide
    Arbitrary<Path> corpusPrograms() {
        return Arbitraries.of(FuzzCorpus.files("programs", ".S"));
    }

    private static void checkExactRestore(String source, long budget) {
        programsRun++;
        try {
            machine.run(source, Map.of(), budget);
        } catch (RuntimeException escaped) {
            throw new AssertionError("an exception escaped Guest.run (issue 11: a guest must never make the host throw)"
                    + " while running\n" + source.indent(4), escaped);
        }
        machine.reset();
        Optional<String> difference = pristine.difference(machine.machine());
        assertEquals(Optional.empty(), difference, "inexact restore after\n" + source.indent(4));
        assertKnownRoutinesAnswer(source);
    }

    /** Translated code of patched kernel or snippet bytes must not outlive the restore. */
    private static void assertKnownRoutinesAnswer(String after) {
        GuestRun put = machine.run("    call console_put_dec", Map.of(X86Reg.RDI, 255L), 100_000);
        assertEquals("255", put.console(), "console_put_dec after\n" + after.indent(4) + "\n" + put.describe());
        GuestRun sum = machine.run("""
                    mov eax, 40
                    add eax, 2
                """, Map.of(), 100);
        assertEquals(42, sum.rax(), "a fresh snippet after\n" + after.indent(4));
    }

    @Provide
    Arbitrary<List<Program>> programBatches() {
        return program().list().ofSize(PROGRAMS_PER_TRY);
    }

    static Arbitrary<Program> program() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(4, store()),
                        net.jqwik.api.Tuple.of(1, fill()),
                        net.jqwik.api.Tuple.of(3, randomBytes()),
                        net.jqwik.api.Tuple.of(2, privileged()),
                        net.jqwik.api.Tuple.of(2, privilegeSeed()),
                        net.jqwik.api.Tuple.of(2, registerValue()),
                        net.jqwik.api.Tuple.of(1, memoryService()))
                .list().ofMinSize(1).ofMaxSize(12).map(Program::new);
    }

    /** Addresses worth hitting: the kernel image (code, data, page tables), the direct map, low RAM, the snippet stack. */
    private static Arbitrary<Long> address() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(0, 0x10_0000).map(o -> 0xffff_ffff_8010_0000L + o),
                Arbitraries.longs().between(0, (64L << 20) - 1).map(o -> 0xffff_8000_0000_0000L + o),
                Arbitraries.longs().between(0, (64L << 20) - 1),
                Arbitraries.longs().between(0, TestMachine.STACK_SIZE - 1).map(o -> TestMachine.STACK_VA + o),
                Arbitraries.longs().between(0, 0x2000).map(o -> 0xffff_8000_0010_0000L + o)); // boot page tables
    }

    private static Arbitrary<String> store() {
        Arbitrary<String> width = Arbitraries.of("byte", "word", "dword", "qword");
        return Combinators.combine(address(), width, Arbitraries.longs()).as((address, size, value) -> String.format("""
                movabs rax, 0x%x
                movabs rbx, 0x%x
                mov %s ptr [rax], %s""", address, value, size, register(size)));
    }

    private static String register(String width) {
        return switch (width) {
            case "byte" -> "bl";
            case "word" -> "bx";
            case "dword" -> "ebx";
            default -> "rbx";
        };
    }

    private static Arbitrary<String> fill() {
        return Combinators.combine(address(), Arbitraries.integers().between(1, 9000), Arbitraries.integers().between(0, 255))
                .as((address, count, value) -> String.format("""
                        movabs rdi, 0x%x
                        mov ecx, %d
                        mov al, %d
                        rep stosb""", address, count, value));
    }

    /** Raw bytes executed inline, without the port-output opcodes (the hypercall and exit ports are not fuzzed here). */
    private static Arbitrary<String> randomBytes() {
        return Arbitraries.integers().between(0, 255)
                .map(b -> b == 0xE6 || b == 0xE7 || b == 0xEE || b == 0xEF ? 0x90 : b)
                .list().ofMinSize(1).ofMaxSize(24)
                .map(bytes -> ".byte " + bytes.stream().map(b -> "0x" + Integer.toHexString(b)).collect(Collectors.joining(", ")));
    }

    private static Arbitrary<String> privileged() {
        Arbitrary<String> cr3 = Arbitraries.longs().between(0, (64L << 20) / 4096 - 1)
                .map(frame -> String.format("movabs rax, 0x%x\nmov cr3, rax", frame * 4096));
        Arbitrary<String> msr = Combinators.combine(Arbitraries.of(0xC000_0080L, 0xC000_0100L, 0xC000_0101L, 0xC000_0102L),
                        Arbitraries.longs().between(0, 0xffff_ffffL), Arbitraries.longs().between(0, 0xffff_ffffL))
                .as((id, high, low) -> String.format("mov ecx, 0x%x\nmov edx, 0x%x\nmov eax, 0x%x\nwrmsr", id, high, low));
        return Arbitraries.oneOf(cr3, msr, Arbitraries.of(
                "cli", "sti", "hlt", "int3", "ud2", "wbinvd", "invlpg [rsp]", "swapgs", "cpuid", "rdtsc",
                "mov rax, cr3\nmov cr3, rax",
                "mov rax, cr0\nxor eax, 0x10000\nmov cr0, rax",      // CR0.WP
                "mov rax, cr4\nxor eax, 0x80\nmov cr4, rax",         // CR4.PGE
                "mov rax, cr0\nbtr rax, 31\nmov cr0, rax",           // paging off in long mode: #GP
                "lgdt [rsp - 64]", "lidt [rsp - 64]",
                "mov ax, 0x10\nmov ds, ax", "mov ax, 0x2b\nmov ss, ax",
                "pushfq\nor qword ptr [rsp], 0x40000\npopfq"));       // RFLAGS.AC
    }

    /**
     * Privilege-seeded parts: drop to ring 3 through {@code iretq} (the rest of the program then
     * runs, or faults, as user code), or load random values into CR0, CR3, CR4, EFER, the GDTR or
     * the IDTR, and use them (segment reloads, a software interrupt).
     */
    private static Arbitrary<String> privilegeSeed() {
        Arbitrary<String> ring3 = Arbitraries.of(0x1bL, 0x23L, 0x2bL, 0x33L, 0x3bL).tuple2().map(sel -> String.format("""
                lea rax, [rip + 1f]
                mov rcx, rsp
                push 0x%x
                push rcx
                pushfq
                push 0x%x
                push rax
                iretq
                1:""", sel.get1(), sel.get2()));
        Arbitrary<Long> bits = Arbitraries.oneOf(Arbitraries.longs(),
                Arbitraries.integers().between(0, 63).list().ofMaxSize(3).map(list -> list.stream().mapToLong(b -> 1L << b)
                        .reduce(0, (a, b) -> a | b)));
        Arbitrary<String> controlRegister = Combinators.combine(Arbitraries.of("cr0", "cr3", "cr4"), bits, Arbitraries.of(true, false))
                .as((cr, value, xor) -> xor
                        ? String.format("mov rax, %s\nmovabs rdx, 0x%x\nxor rax, rdx\nmov %s, rax", cr, value, cr)
                        : String.format("movabs rax, 0x%x\nmov %s, rax", value, cr));
        Arbitrary<String> efer = bits.map(value -> String.format(
                "mov ecx, 0xc0000080\nrdmsr\nxor eax, 0x%x\nxor edx, 0x%x\nwrmsr", value & 0xffff_ffffL, value >>> 32));
        Arbitrary<String> table = Combinators.combine(Arbitraries.of("lgdt", "lidt"), Arbitraries.oneOf(address(), Arbitraries.longs()),
                        Arbitraries.integers().between(0, 0xffff), Arbitraries.of("mov ax, 0x10\nmov ds, ax", "int 0x80", "int3", "nop"))
                .as((load, base, limit, use) -> String.format(
                        "movabs rax, 0x%x\nmov qword ptr [rsp - 14], rax\nmov word ptr [rsp - 16], %d\n%s [rsp - 16]\n%s",
                        base, limit, load, use));
        return Arbitraries.oneOf(ring3, controlRegister, efer, table);
    }

    private static Arbitrary<String> registerValue() {
        return Combinators.combine(Arbitraries.of("rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r11", "r15", "rsp"),
                Arbitraries.oneOf(address(), Arbitraries.longs())).as((register, value) ->
                String.format("movabs %s, 0x%x", register, value));
    }

    private static Arbitrary<String> memoryService() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(0, 20000).map(size ->
                        String.format("mov edi, %d\nmov esi, ALLOC_ZERO\nHYPERCALL HC_KMALLOC\nmov qword ptr [rax], rax", size)),
                Arbitraries.integers().between(1, 4).map(pages ->
                        String.format("mov edi, %d\nHYPERCALL HC_VMALLOC\nmov qword ptr [rax + 8], rax", pages * 4096)));
    }
}
