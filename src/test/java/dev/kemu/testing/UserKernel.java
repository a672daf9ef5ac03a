package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.toolchain.ImageBuilder;

import java.nio.file.Path;
import java.util.List;

/**
 * Builds the consumer project's kernel ({@code src/test/consumer-project/kernel/}: a Multiboot ELF64 with
 * its own page tables and IDT, no kemu services) into {@code target/user-kernel/kernel.elf}, the path the
 * user-kernel tests name in {@link KemuKernel}.
 */
final class UserKernel {
    static final String IMAGE = "target/user-kernel/kernel.elf";

    private UserKernel() {}

    static Path build() {
        Path sources = KernelSources.home().resolve("src/test/consumer-project/kernel");
        return ImageBuilder.gnu().build(List.of(sources.resolve("boot.S")), List.of(), sources.resolve("kernel.ld"),
                ProjectFiles.resolve(IMAGE));
    }
}
