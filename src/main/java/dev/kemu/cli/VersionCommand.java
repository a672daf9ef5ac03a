package dev.kemu.cli;

import dev.kemu.machine.Disassembler;
import dev.kemu.machine.Machine;
import dev.kemu.toolchain.keystone.KeystoneModule;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code kemu version}: kemu's version and the native libraries it loaded, with where they came from. */
@Command(name = "version", mixinStandardHelpOptions = true,
        description = "Print kemu's version and the native libraries in use (and where they were found).")
final class VersionCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("kemu 0.1.0");
        System.out.println("libunicorn " + Machine.engineVersion());
        System.out.println("libcapstone from " + Disassembler.librarySource());
        System.out.println("keystone " + KeystoneModule.describe());
        System.out.println("java " + Runtime.version());
        return 0;
    }
}
