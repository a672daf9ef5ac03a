package dev.kemu.cli;

import dev.kemu.machine.Disassembler;
import dev.kemu.toolchain.keystone.KeystoneAssembler;
import dev.kemu.toolchain.keystone.KeystoneModule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code kemu asm}: assembles a file or standard input with Keystone, in process, and prints each
 * instruction's address and bytes beside Capstone's disassembly of them (a round trip).
 */
@Command(name = "asm", mixinStandardHelpOptions = true,
        description = "Assemble a file (or - for standard input) with Keystone and print the bytes beside "
                + "Capstone's disassembly of them.")
final class AsmCommand implements Callable<Integer> {
    private static final Pattern NOT_64_BIT = Pattern.compile("(?im)^\\s*\\.code(16|32)\\b");

    @Parameters(index = "0", paramLabel = "FILE", description = "Intel-syntax assembly; - reads standard input.")
    String file;

    @Option(names = "--address", paramLabel = "ADDRESS", defaultValue = "0",
            description = "Where the code is placed (decimal or 0x...; default ${DEFAULT-VALUE}).")
    String address;

    @Override
    public Integer call() throws IOException {
        var unavailable = KeystoneModule.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("kemu asm: " + unavailable.get());
            return ExitStatus.USAGE;
        }
        long base = parseAddress(address);
        String source = file.equals("-")
                ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
        byte[] code = new KeystoneAssembler().assemble(source, file.equals("-") ? "<stdin>" : file, base);
        if (NOT_64_BIT.matcher(source).find()) {
            printHex(code, base);   // kemu's Capstone decodes 64-bit code only
        } else {
            printDisassembly(code, base);
        }
        return ExitStatus.SUCCESS;
    }

    private static void printDisassembly(byte[] code, long base) {
        HexFormat hex = HexFormat.of();
        try (Disassembler disassembler = new Disassembler()) {
            List<Disassembler.Instruction> instructions = disassembler.disassemble(code, base, 0);
            int decoded = 0;
            for (Disassembler.Instruction i : instructions) {
                System.out.printf("%016x  %-30s %s%n", i.address(), hex.formatHex(i.bytes()), i.text());
                decoded += i.bytes().length;
            }
            if (decoded < code.length) {
                byte[] rest = java.util.Arrays.copyOfRange(code, decoded, code.length);
                System.out.printf("%016x  %-30s (data)%n", base + decoded, hex.formatHex(rest));
            }
        }
    }

    private static void printHex(byte[] code, long base) {
        HexFormat hex = HexFormat.of();
        for (int offset = 0; offset < code.length; offset += 16) {
            int end = Math.min(code.length, offset + 16);
            System.out.printf("%016x  %s%n", base + offset, hex.formatHex(code, offset, end));
        }
        System.out.println("(16/32-bit code: shown as bytes; kemu's disassembler decodes 64-bit code only)");
    }

    private static long parseAddress(String text) {
        try {
            return text.toLowerCase().startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16)
                    : Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--address " + text + " is not a number: write it in decimal or as 0x...");
        }
    }
}
