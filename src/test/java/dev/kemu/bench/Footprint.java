package dev.kemu.bench;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of a booted machine: the process's RSS growth from before the machine to
 * after the boot, against the guest RAM pages actually resident (mincore). Run in a fresh JVM
 * per size. Prints "footprint_MiB ram_mib rss_growth_kib touched_kib".
 */
public final class Footprint {
    public static void main(String[] args) throws Throwable {
        long ramMiB = Long.parseLong(args[0]);
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        // Warm the code paths on a small machine first, so class loading and JIT are not counted.
        try (KernelBoot warm = new KernelBoot(images, BootOptions.defaults().withRam(16L << 20))) {
            warm.run();
        }
        System.gc();
        long before = rssKiB();
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults().withRam(ramMiB << 20))) {
            BootReport report = boot.run();
            if (!report.succeeded()) {
                throw new IllegalStateException(report.failure().get());
            }
            long after = rssKiB();
            long touched = residentPages(boot.machine().ram().segment()) * 4;
            System.out.printf("footprint_%d %d %d %d KiB%n", ramMiB, ramMiB, after - before, touched);
        }
    }

    private static long rssKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static long residentPages(MemorySegment ram) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle mincore = linker.downcallHandle(linker.defaultLookup().find("mincore").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS));
        long pages = ram.byteSize() / 4096;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(pages);
            int result = (int) mincore.invokeExact(ram, ram.byteSize(), vector);
            if (result != 0) {
                throw new IllegalStateException("mincore failed");
            }
            long resident = 0;
            for (long i = 0; i < pages; i++) {
                resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return resident;
        }
    }
}
