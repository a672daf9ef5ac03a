package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.GnuAssembler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GNU as as the reference: assembles many snippets in one run (one fork of as, nm and objcopy for
 * the whole corpus) and cuts the {@code .text} bytes at labels placed between the snippets.
 */
final class GnuReference {
    /** One snippet in a code mode (16, 32 or 64). */
    record Snippet(int bits, String source) {
    }

    private GnuReference() {
    }

    static List<byte[]> assemble(List<Snippet> snippets, Path dir) {
        StringBuilder source = new StringBuilder(".intel_syntax noprefix\n");
        for (int i = 0; i < snippets.size(); i++) {
            source.append(".code").append(snippets.get(i).bits()).append('\n')
                    .append("kemu_ref_").append(i).append(":\n")
                    .append(snippets.get(i).source()).append('\n');
        }
        source.append("kemu_ref_").append(snippets.size()).append(":\n");
        try {
            Path asm = dir.resolve("reference.S");
            Path object = dir.resolve("reference.o");
            Path binary = dir.resolve("reference.bin");
            Files.writeString(asm, source);
            new GnuAssembler().assemble(asm, List.of(), object);
            run(List.of("objcopy", "-O", "binary", "-j", ".text", object.toString(), binary.toString()));
            byte[] text = Files.readAllBytes(binary);
            Map<Integer, Integer> offsets = new HashMap<>();
            for (String line : run(List.of("nm", object.toString())).split("\\R")) {
                String[] parts = line.strip().split("\\s+");
                if (parts.length == 3 && parts[2].startsWith("kemu_ref_")) {
                    offsets.put(Integer.parseInt(parts[2].substring("kemu_ref_".length())),
                            Integer.parseInt(parts[0], 16));
                }
            }
            List<byte[]> pieces = new ArrayList<>();
            for (int i = 0; i < snippets.size(); i++) {
                pieces.add(Arrays.copyOfRange(text, offsets.get(i), offsets.get(i + 1)));
            }
            return pieces;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return output;
    }
}
