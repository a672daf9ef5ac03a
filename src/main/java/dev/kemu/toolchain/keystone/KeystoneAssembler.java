package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.Assembler;
import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The Keystone backend: Keystone 0.9.2 run in process (WebAssembly on Chicory), with kemu's guards
 * around its quirks ({@link QuirkGuards}), errors located as {@code file:line} (Keystone reports
 * none: the failing statement is found by bisecting), and a check that Keystone assembled every
 * statement. Thread-safe: each thread gets its own {@link KeystoneEngine}, recreated after a trap.
 */
public final class KeystoneAssembler implements Assembler {
    private static final ThreadLocal<KeystoneEngine> ENGINES = new ThreadLocal<>();

    /** Raw machine code for {@code source} placed at {@code address}; {@code file} names it in errors. */
    public byte[] assemble(String source, String file, long address) {
        List<Statement> statements = SourceSplitter.split(source, file);
        List<Diagnostic> problems = QuirkGuards.check(statements);
        if (!problems.isEmpty()) {
            throw new AssemblyException("Keystone cannot assemble " + file + " as written", problems);
        }
        return assembleChecked(statements, file, address);
    }

    /** Writes an ELF64 relocatable object: the code in {@code .text} at offset 0, a symbol per label. */
    @Override
    public void assemble(Path source, List<Path> includeDirs, Path object) {
        String text;
        try {
            text = Files.readString(source);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read assembly source " + source, e);
        }
        String file = source.toString();
        List<Statement> statements = SourceSplitter.split(text, file);
        List<Diagnostic> problems = QuirkGuards.check(statements);
        if (!problems.isEmpty()) {
            throw new AssemblyException("Keystone cannot assemble " + file + " as written", problems);
        }
        Labelled labelled = labelled(statements, file, 0);
        Set<String> globals = globals(statements);
        List<RelocatableElfWriter.Symbol> symbols = new ArrayList<>();
        labelled.labels().forEach((name, offset) -> {
            if (!name.startsWith(".L")) { // .L labels stay out of the symbol table, as with GNU as
                symbols.add(new RelocatableElfWriter.Symbol(name, offset, globals.contains(name)));
            }
        });
        try {
            Files.write(object, RelocatableElfWriter.write(labelled.code(), symbols));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write object file " + object, e);
        }
    }

    /** Code and the address of every label in it (in source order). */
    record Labelled(byte[] code, Map<String, Long> labels) {
    }

    /**
     * Guards (with {@code externals} supplied as {@code name = value} statements, see
     * {@link QuirkGuards#check(List, Set)}), then assembles {@code statements} at {@code address}.
     */
    Labelled assembleLabelled(List<Statement> statements, String file, long address, Set<String> externals) {
        List<Diagnostic> problems = QuirkGuards.check(statements, externals);
        if (!problems.isEmpty()) {
            throw new AssemblyException("Keystone cannot assemble " + file + " as written", problems);
        }
        return labelled(statements, file, address);
    }

    private Labelled labelled(List<Statement> statements, String file, long address) {
        List<Statement> labels = statements.stream().filter(Statement::isLabel).toList();
        // Label addresses come out exactly when their values are appended as .quad after the code.
        List<Statement> withAddresses = new ArrayList<>(statements);
        for (Statement label : labels) {
            withAddresses.add(new Statement(file, label.line(), ".quad " + name(label), 64));
        }
        byte[] all = assembleChecked(withAddresses, file, address);
        int codeLength = all.length - 8 * labels.size();
        ByteBuffer values = ByteBuffer.wrap(all, codeLength, 8 * labels.size()).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Long> addresses = new LinkedHashMap<>();
        for (Statement label : labels) {
            addresses.put(name(label), values.getLong());
        }
        return new Labelled(Arrays.copyOf(all, codeLength), addresses);
    }

    private byte[] assembleChecked(List<Statement> statements, String file, long address) {
        KeystoneEngine.Result result = run(joined(statements), address);
        if (!result.ok()) {
            int culprit = firstFailing(statements, address);
            Statement at = statements.get(culprit);
            throw new AssemblyException("Keystone rejected " + file, List.of(
                    new Diagnostic(at.file(), at.line(), describe(result.failure()) + " in `" + at.text() + "`")));
        }
        KeystoneEngine.Output output = result.output();
        int stoppedAt = stoppedAt(statements, output.statements());
        if (stoppedAt >= 0) {
            // Keystone sometimes stops early and still reports success; say where it stopped.
            Statement at = statements.get(stoppedAt);
            throw new AssemblyException("Keystone's result for " + file + " is incomplete", List.of(new Diagnostic(
                    at.file(), at.line(), "Keystone stopped without an error before `" + at.text() + "` ("
                            + output.statements() + " statements assembled)")));
        }
        if (output.bytes().length == 0 && statements.stream().anyMatch(KeystoneAssembler::emitsCode)) {
            throw new AssemblyException("Keystone produced no code for " + file, List.of(
                    new Diagnostic(file, 0, "Keystone reported success but produced no bytes")));
        }
        return output.bytes();
    }

    /**
     * The first statement Keystone did not reach when it reports {@code counted} statements, or -1
     * when it reached them all. Keystone counts a prefix ({@code rep}, {@code lock}) as a statement.
     */
    private static int stoppedAt(List<Statement> statements, long counted) {
        long seen = 0;
        for (int i = 0; i < statements.size(); i++) {
            seen += statements.get(i).keystoneWeight();
            if (seen > counted) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The index of the statement that makes Keystone fail: the shortest failing prefix, where the
     * statements after the prefix still contribute their labels and constants (so a forward
     * reference does not fail the prefix).
     */
    private int firstFailing(List<Statement> statements, long address) {
        Predicate<Integer> fails = n -> !run(prefix(statements, n), address).ok();
        int ok = 0;
        int failing = statements.size();
        while (failing - ok > 1) {
            int middle = (ok + failing) >>> 1;
            if (fails.test(middle)) {
                failing = middle;
            } else {
                ok = middle;
            }
        }
        return failing - 1;
    }

    private static String prefix(List<Statement> statements, int n) {
        List<Statement> kept = new ArrayList<>(statements.subList(0, n));
        statements.subList(n, statements.size()).stream()
                .filter(s -> s.isLabel() || s.isAssignment())
                .forEach(kept::add);
        return joined(kept);
    }

    private static KeystoneEngine.Result run(String source, long address) {
        KeystoneEngine engine = ENGINES.get();
        if (engine == null || engine.broken()) {
            engine = KeystoneEngine.create();
            ENGINES.set(engine);
        }
        try {
            return engine.assemble(source, address);
        } catch (KeystoneTrapException e) {
            ENGINES.remove();
            return new KeystoneEngine.Result(null, new KeystoneEngine.Failure(-1, e.getMessage(), ""));
        }
    }

    private static String describe(KeystoneEngine.Failure failure) {
        String console = failure.console().strip();
        return failure.message() + (console.isEmpty() ? "" : " (" + console + ")");
    }

    private static boolean emitsCode(Statement s) {
        return !s.isLabel() && !s.isAssignment() && !s.head().startsWith(".");
    }

    private static String joined(List<Statement> statements) {
        StringBuilder text = new StringBuilder();
        for (Statement s : statements) {
            text.append(s.text()).append('\n');
        }
        return text.toString();
    }

    private static String name(Statement label) {
        return label.text().substring(0, label.text().length() - 1);
    }

    private static Set<String> globals(List<Statement> statements) {
        Set<String> names = new HashSet<>();
        for (Statement s : statements) {
            if (s.head().equals(".global") || s.head().equals(".globl")) {
                for (String name : s.operands().split(",")) {
                    names.add(name.strip());
                }
            }
        }
        return names;
    }
}
