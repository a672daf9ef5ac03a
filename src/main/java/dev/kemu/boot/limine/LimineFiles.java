package dev.kemu.boot.limine;

import dev.kemu.boot.MultibootModule;
import dev.kemu.elf.ElfFormatException;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The files a Limine loader hands over as {@code struct limine_file}: the modules ({@code --module FILE[=CMDLINE]},
 * in order) and, when the kernel asks for it, a copy of the kernel file itself, each 4 KiB aligned after the kernel
 * (PROTOCOL.md, "File Structure": the address is always at least 4 KiB aligned). The kernel file's command line is
 * the kernel command line ({@code --cmdline}).
 */
record LimineFiles(List<LoadedFile> modules, Optional<LoadedFile> kernelFile, long end) {
    private static final long PAGE = 4096;

    /** One file in guest RAM: its physical address and size, its path (with a leading slash) and command line. */
    record LoadedFile(PhysAddr address, long size, String path, String commandLine) {}

    static LimineFiles load(GuestRam ram, long start, long limit, List<MultibootModule> modules, byte[] kernelFile,
                            Path kernelPath, String kernelCommandLine) {
        long at = start;
        List<LoadedFile> loaded = new ArrayList<>();
        for (MultibootModule module : modules) {
            byte[] bytes = read(module.file());
            at = place(ram, at, limit, bytes, module.toString());
            loaded.add(new LoadedFile(PhysAddr.of(at), bytes.length, slashed(module.file()), module.commandLine()));
            at = ReclaimableArena.align(at + bytes.length, PAGE);
        }
        Optional<LoadedFile> kernel = Optional.empty();
        if (kernelFile != null) {
            at = place(ram, at, limit, kernelFile, "the copy of the kernel file");
            kernel = Optional.of(new LoadedFile(PhysAddr.of(at), kernelFile.length, slashed(kernelPath),
                    kernelCommandLine));
            at = ReclaimableArena.align(at + kernelFile.length, PAGE);
        }
        return new LimineFiles(List.copyOf(loaded), kernel, at);
    }

    private static long place(GuestRam ram, long at, long limit, byte[] bytes, String what) {
        if (at + bytes.length > limit) {
            throw new ElfFormatException(String.format("%s (%d bytes) does not fit: it would take [P0x%x-P0x%x) but "
                    + "usable guest RAM ends at P0x%x; give the guest more RAM (--ram)", what, bytes.length, at,
                    at + bytes.length, limit));
        }
        ram.write(at, bytes);
        return at;
    }

    private static String slashed(Path file) {
        String name = file.toString().replace('\\', '/');
        return name.startsWith("/") ? name : "/" + name;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ElfFormatException("--module " + file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
