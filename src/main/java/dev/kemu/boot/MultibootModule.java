package dev.kemu.boot;

import java.nio.file.Path;

/**
 * A boot module the loader hands to the kernel with the Multiboot information ({@code --module FILE[=CMDLINE]}):
 * the file's bytes and the command line the kernel reads from the module's {@code string} field. Without
 * {@code =CMDLINE} the string is the file name as given, as GRUB and QEMU start it.
 */
public record MultibootModule(Path file, String commandLine) {
    public MultibootModule {
        if (commandLine.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("--module " + file + ": the command line contains a NUL byte, which "
                    + "would end the string the kernel reads early");
        }
    }

    /** {@code FILE} or {@code FILE=CMDLINE}; the first '=' separates the two. */
    public static MultibootModule parse(String argument) {
        int equals = argument.indexOf('=');
        String file = equals < 0 ? argument : argument.substring(0, equals);
        if (file.isEmpty()) {
            throw new IllegalArgumentException("--module " + argument + ": no file before '='; use --module FILE[=CMDLINE]");
        }
        return new MultibootModule(Path.of(file), equals < 0 ? file : argument.substring(equals + 1));
    }

    @Override
    public String toString() {
        return "module " + file;
    }
}
