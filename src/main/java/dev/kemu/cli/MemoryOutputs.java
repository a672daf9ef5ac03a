package dev.kemu.cli;

import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.leaks.SlubAllocationSites;
import dev.kemu.debug.leaks.LeakScan;
import dev.kemu.debug.leaks.ScanRoots;
import dev.kemu.debug.svg.MemorySvg;
import dev.kemu.debug.svg.VirtualRegion;
import dev.kemu.kernel.mm.KernelMemory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** What {@code kemu boot --leaks} and {@code --mm-svg FILE} produce after the run, from the machine's memory services. */
final class MemoryOutputs {
    static final String NO_MEMORY_SERVICES = "(the guest never initialised the memory services)\n";

    private MemoryOutputs() {}

    /** kmemleak's report for the kernel after its run: roots are its .data/.bss and every CPU's registers and stack. */
    static String leaks(KernelBoot boot) {
        Optional<KernelMemory> memory = boot.services().memory();
        if (memory.isEmpty()) {
            return "--- leaks ---\n" + NO_MEMORY_SERVICES;
        }
        ScanRoots.Builder roots = ScanRoots.builder(boot.cpus().machine(0).cpu().cr3()).kernelData(boot.kernel());
        for (int id = 0; id < boot.cpus().count(); id++) {
            roots.cpu(boot.cpus().machine(id).cpu(), 0);
        }
        return "--- leaks ---\n" + LeakScan.run(memory.get(), roots.build(),
                new SlubAllocationSites(memory.get(), boot.faultAnalyzer()::symbolize)).text();
    }

    /** Writes the memory picture to {@code file}; returns the line to print, or throws what the user must fix. */
    static String writeSvg(KernelBoot boot, Path file, BootArguments arguments) {
        Optional<KernelMemory> memory = boot.services().memory();
        if (memory.isEmpty()) {
            return "--mm-svg: nothing written " + NO_MEMORY_SERVICES;
        }
        String svg = MemorySvg.render(memory.get(), VirtualRegion.kernelImage(boot.kernel()));
        try {
            Files.writeString(file, svg, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw arguments.usage("--mm-svg " + file + ": cannot write the memory picture there (" + e + ")");
        }
        return "memory picture written to " + file + "\n";
    }
}
