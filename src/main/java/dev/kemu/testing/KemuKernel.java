package dev.kemu.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Boots the test class's {@link Guest}s from a kernel of the user's own instead of kemu's bundled one:
 *
 * <pre>{@code
 * @ExtendWith(KemuExtension.class)
 * @KemuKernel(image = "build/kernel.elf", snapshotAt = "kernel_main")
 * class MyKernelTest { ... }
 * }</pre>
 *
 * The kernel boots once per thread until execution first reaches {@link #snapshotAt()}; every test
 * starts from that moment. Without this annotation the extension reads {@code kemu.properties} from the
 * test class path ({@code kemu.kernel.image}, {@code kemu.kernel.snapshotAt}, {@code kemu.kernel.ramMiB},
 * {@code kemu.kernel.cmdline}, {@code kemu.kernel.cpus}), and without either it boots kemu's bundled kernel.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface KemuKernel {
    /** The kernel's ELF (ELF64, or what kemu's loader accepts), relative to the project directory. */
    String image();

    /**
     * Where the snapshot is taken: a symbol of the kernel ({@code kernel_main}: the moment before its first
     * instruction runs) or {@code port:0x501} (just after the kernel's first write to that I/O port).
     */
    String snapshotAt() default "kernel_main";

    /** Guest RAM in MiB. */
    int ramMiB() default 64;

    /** The kernel command line in the Multiboot information. */
    String commandLine() default "kemu";

    /**
     * CPUs in the machine, 1 to 255: CPUID, the ACPI MADT and fw_cfg say so, and the APs wait for INIT and
     * STARTUP IPIs ({@code KernelBoot.cpus()}).
     */
    int cpus() default 1;
}
