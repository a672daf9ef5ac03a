package dev.kemu.boot;

import dev.kemu.toolchain.ImageBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The guest sources of a kernel build: {@code kernel-asm/*.S} (the kernel) plus
 * {@code kernel-asm/firmware.S} (kemu's firmware stub, linked separately), with the
 * linker scripts in {@code linker/}. Tests derive variants by replacing or adding files.
 */
public final class KernelSources {
    public static final String FIRMWARE_SOURCE = "firmware.S";

    private final Path home;
    private final Map<String, Path> kernelSources;
    private final String variant;

    private KernelSources(Path home, Map<String, Path> kernelSources, String variant) {
        this.home = home;
        this.kernelSources = kernelSources;
        this.variant = variant;
    }

    /** The repository's own kernel, found under {@code kemu.home} (or the working directory). */
    public static KernelSources defaults() {
        return of(home());
    }

    public static KernelSources of(Path home) {
        Path asm = home.resolve("kernel-asm");
        Map<String, Path> sources = new LinkedHashMap<>();
        try (var files = Files.list(asm)) {
            files.filter(p -> p.getFileName().toString().endsWith(".S"))
                    .filter(p -> !p.getFileName().toString().equals(FIRMWARE_SOURCE))
                    .sorted(KernelSources::bootFirst)
                    .forEach(p -> sources.put(p.getFileName().toString(), p));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + asm + " (is kemu.home the repository root?)", e);
        }
        return new KernelSources(home, sources, "default");
    }

    public static Path home() {
        return Path.of(System.getProperty("kemu.home", ".")).toAbsolutePath().normalize();
    }

    /** A variant with {@code fileName} replaced by {@code replacement} (or added, if new). */
    public KernelSources with(String fileName, Path replacement) {
        Map<String, Path> sources = new LinkedHashMap<>(kernelSources);
        sources.put(fileName, replacement);
        return new KernelSources(home, sources, variant + "+" + fileName + "@" + Integer.toHexString(replacement.hashCode()));
    }

    public List<Path> kernelFiles() {
        return new ArrayList<>(kernelSources.values());
    }

    public Path includeDir() {
        return home.resolve("kernel-asm/include");
    }

    /** Builds (or reuses) the firmware and kernel ELFs under {@code target/kernel/}. */
    public BuiltImages build() {
        ImageBuilder builder = ImageBuilder.gnu();
        Path out = home.resolve("target/kernel").resolve(variant.equals("default") ? "default"
                : "variant-" + Integer.toHexString(variant.hashCode()));
        Path firmware = builder.build(List.of(home.resolve("kernel-asm").resolve(FIRMWARE_SOURCE)),
                List.of(includeDir()), home.resolve("linker/firmware.ld"), home.resolve("target/kernel/firmware.elf"));
        Path kernel = builder.build(kernelFiles(), List.of(includeDir()), home.resolve("linker/kernel.ld"),
                out.resolve("kernel.elf"));
        return new BuiltImages(firmware, kernel);
    }

    /** Paths of a built firmware stub and kernel. */
    public record BuiltImages(Path firmware, Path kernel) {}

    private static int bootFirst(Path a, Path b) {
        // boot.S carries the Multiboot header, which must sit in the image's first 8 KiB.
        boolean aBoot = a.getFileName().toString().equals("boot.S");
        boolean bBoot = b.getFileName().toString().equals("boot.S");
        return aBoot != bBoot ? (aBoot ? -1 : 1) : a.getFileName().toString().compareTo(b.getFileName().toString());
    }
}
