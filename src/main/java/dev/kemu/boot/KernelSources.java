package dev.kemu.boot;

import dev.kemu.nativelib.KemuHome;
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

    /** kemu's own kernel, found in kemu's home: the repository ({@code kemu.home}) or the jar's unpacked copy. */
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
            throw new UncheckedIOException("cannot list " + asm + " (is kemu.home kemu's repository root?)", e);
        }
        return new KernelSources(home, sources, "default");
    }

    public static Path home() {
        return KemuHome.directory();
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
        Path firmware = buildFirmware();
        Path kernel = builder.build(kernelFiles(), List.of(includeDir()), home.resolve("linker/kernel.ld"),
                out.resolve("kernel.elf"));
        return new BuiltImages(firmware, kernel);
    }

    /** Builds (or reuses) kemu's firmware stub alone, for booting a kernel of the user's own. */
    public Path buildFirmware() {
        return ImageBuilder.gnu().build(List.of(home.resolve("kernel-asm").resolve(FIRMWARE_SOURCE)),
                List.of(includeDir()), home.resolve("linker/firmware.ld"), home.resolve("target/kernel/firmware.elf"));
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
