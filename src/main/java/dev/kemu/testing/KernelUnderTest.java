package dev.kemu.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.Properties;

/**
 * A kernel of the user's own that the test harness boots: its ELF (an absolute path), where the snapshot
 * is taken, guest RAM, command line and CPU count. Read from {@link KemuKernel} or from {@code kemu.properties}.
 */
public record KernelUnderTest(Path image, SnapshotPoint snapshotAt, long ramBytes, String commandLine, int cpus) {
    public static final String PROPERTIES = "kemu.properties";

    public KernelUnderTest {
        if (!Files.isRegularFile(image)) {
            throw new IllegalArgumentException("kernel image " + image + " does not exist: build your kernel before "
                    + "the tests run, or fix the path (relative paths are resolved against the project directory "
                    + ProjectFiles.directory() + ")");
        }
        if (cpus < 1 || cpus > dev.kemu.boot.BootOptions.MAX_CPUS) {
            throw new IllegalArgumentException("a kernel under test with " + cpus + " CPUs: give 1 to "
                    + dev.kemu.boot.BootOptions.MAX_CPUS);
        }
    }

    /** One CPU. */
    public KernelUnderTest(Path image, SnapshotPoint snapshotAt, long ramBytes, String commandLine) {
        this(image, snapshotAt, ramBytes, commandLine, 1);
    }

    static KernelUnderTest of(KemuKernel annotation) {
        return new KernelUnderTest(ProjectFiles.resolve(annotation.image()), SnapshotPoint.parse(annotation.snapshotAt()),
                (long) annotation.ramMiB() << 20, annotation.commandLine(), annotation.cpus());
    }

    /** The kernel named by {@code kemu.properties} on {@code loader}'s class path, if there is such a file. */
    static Optional<KernelUnderTest> fromProperties(ClassLoader loader) {
        synchronized (FROM_PROPERTIES) { // every test asks; reading the resource and resolving the image each time costs
            Optional<KernelUnderTest> known = FROM_PROPERTIES.get(loader);
            if (known != null) {
                return known;
            }
        }
        Optional<KernelUnderTest> kernel = readProperties(loader); // a broken file throws, and is read again next time
        synchronized (FROM_PROPERTIES) {
            FROM_PROPERTIES.put(loader, kernel);
        }
        return kernel;
    }

    private static final Map<ClassLoader, Optional<KernelUnderTest>> FROM_PROPERTIES = new WeakHashMap<>();

    private static Optional<KernelUnderTest> readProperties(ClassLoader loader) {
        try (InputStream in = loader.getResourceAsStream(PROPERTIES)) {
            if (in == null) {
                return Optional.empty();
            }
            Properties properties = new Properties();
            properties.load(in);
            String image = properties.getProperty("kemu.kernel.image");
            if (image == null || image.isBlank()) {
                throw new IllegalArgumentException(PROPERTIES + " has no kemu.kernel.image: add the kernel's ELF path, "
                        + "e.g. kemu.kernel.image=build/kernel.elf");
            }
            String ram = properties.getProperty("kemu.kernel.ramMiB", "64").strip();
            long ramMiB;
            try {
                ramMiB = Long.parseLong(ram);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PROPERTIES + ": kemu.kernel.ramMiB=" + ram + " is not a number of MiB", e);
            }
            String cpus = properties.getProperty("kemu.kernel.cpus", "1").strip();
            int cpuCount;
            try {
                cpuCount = Integer.parseInt(cpus);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PROPERTIES + ": kemu.kernel.cpus=" + cpus + " is not a number of CPUs", e);
            }
            return Optional.of(new KernelUnderTest(ProjectFiles.resolve(image.strip()),
                    SnapshotPoint.parse(properties.getProperty("kemu.kernel.snapshotAt", "kernel_main")),
                    ramMiB << 20, properties.getProperty("kemu.kernel.cmdline", "kemu"), cpuCount));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PROPERTIES + " from the test class path", e);
        }
    }
}
