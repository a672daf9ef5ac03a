package dev.kemu.bench;

import dev.kemu.boot.KernelSources;
import dev.kemu.testing.SnippetAssembler;
import dev.kemu.testing.SnippetToolchain;
import dev.kemu.testing.TestMachine;
import dev.kemu.toolchain.keystone.KeystoneEngine;
import dev.kemu.toolchain.keystone.KeystoneModule;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What one distinct new snippet costs to assemble and link against the kernel, Keystone in process
 * against GNU as + ld forked: every snippet differs (a counter in an immediate), so no cache answers.
 * First the start-up of Keystone, step by step: "keystone_engine" (compiled classes or interpreter, and
 * why), "keystone_parse_ms" (the module), "keystone_load_ms" (its compiled classes, checksum and JVM
 * verification), "keystone_instance_ms" (one instance, constructors, {@code ks_open}; the median of 5).
 * Then "snippet_keystone_cold_ms" (the first snippet of this JVM's assembler thread: its instance, assembly),
 * "snippet_keystone_early_ms" (snippets 100 to 400 of the JVM, while the JIT is still compiling Keystone's
 * classes), "snippet_keystone_ms" (min, median of the last quarter of {@code keystone} snippets, warm) and
 * "snippet_gnu_ms" (min, median of {@code gnu} snippets).
 */
public final class SnippetAssemblyCost {
    private static final String SNIPPET = """
                mov rdi, %d
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov qword ptr [rax + 8], 42
            """;

    public static void main(String[] args) {
        int keystone = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        int gnu = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        Path kernel = KernelSources.defaults().build().kernel();
        long nonce = System.nanoTime() & 0xffffff; // distinct from earlier runs' snippets left in the disk cache

        long started = System.nanoTime();
        KeystoneModule.get();
        double parse = (System.nanoTime() - started) / 1e6;
        started = System.nanoTime();
        KeystoneModule.Execution execution = KeystoneModule.execution();
        double load = (System.nanoTime() - started) / 1e6;
        double[] instance = new double[5];
        for (int i = 0; i < instance.length; i++) {
            started = System.nanoTime();
            KeystoneEngine.create().close();
            instance[i] = (System.nanoTime() - started) / 1e6;
        }
        System.out.println("keystone_engine " + (execution.isCompiled() ? "compiled" : "interpreter")
                + " # " + execution.description());
        print("keystone_parse_ms", new double[]{parse});
        print("keystone_load_ms", new double[]{load});
        print("keystone_instance_ms", instance);

        System.setProperty(SnippetToolchain.PROPERTY, "keystone");
        SnippetAssembler inProcess = new SnippetAssembler(kernel);
        double[] cold = {time(inProcess, nonce << 16)};
        double[] warm = new double[keystone];
        for (int i = 0; i < keystone; i++) {
            warm[i] = time(inProcess, (nonce << 16) + 1 + i);
        }
        double[] late = Arrays.copyOfRange(warm, keystone - keystone / 4, keystone);
        double[] early = Arrays.copyOfRange(warm, Math.min(100, keystone - 1), Math.min(400, keystone));

        System.setProperty(SnippetToolchain.PROPERTY, "gnu");
        SnippetAssembler forked = new SnippetAssembler(kernel);
        double[] gnuTimes = new double[gnu];
        for (int i = 0; i < gnu; i++) {
            gnuTimes[i] = time(forked, (nonce << 16) + 0x8000 + i);
        }
        print("snippet_keystone_cold_ms", cold);
        print("snippet_keystone_early_ms", early);
        print("snippet_keystone_ms", late);
        print("snippet_gnu_ms", gnuTimes);
        System.out.printf(java.util.Locale.ROOT, "snippet_gnu_over_keystone %.1f x (medians)%n", median(gnuTimes) / median(late));
    }

    private static double time(SnippetAssembler assembler, long value) {
        long started = System.nanoTime();
        assembler.assemble(SNIPPET.formatted(value), TestMachine.CODE_VA);
        return (System.nanoTime() - started) / 1e6;
    }

    private static double median(double[] samples) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void print(String name, double[] samples) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        System.out.printf(java.util.Locale.ROOT, "%s %.3f %.3f ms%n", name, sorted[0], sorted[sorted.length / 2]);
    }
}
