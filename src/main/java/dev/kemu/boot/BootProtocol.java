package dev.kemu.boot;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The boot protocols kemu speaks as a loader. When an image carries several, {@link KernelImages} picks the first
 * in this order, the newest protocol the kernel offers (a kernel that carries a Multiboot 2 header beside a
 * Multiboot 1 one is built for a loader that prefers it); {@code --protocol} forces one.
 */
public enum BootProtocol {
    LIMINE("limine", "Limine protocol"),
    MULTIBOOT2("multiboot2", "Multiboot 2"),
    MULTIBOOT("multiboot", "Multiboot 1");

    private final String option;
    private final String title;

    BootProtocol(String option, String title) {
        this.option = option;
        this.title = title;
    }

    /** The name {@code --protocol} takes. */
    public String option() {
        return option;
    }

    public String title() {
        return title;
    }

    /** {@code auto} (empty: detect from the image) or one protocol's option name. */
    public static Optional<BootProtocol> parse(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("auto")) {
            return Optional.empty();
        }
        return Optional.of(Arrays.stream(values()).filter(p -> p.option.equals(lower)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--protocol " + name + ": unknown boot protocol; use "
                        + "auto, " + Arrays.stream(values()).map(BootProtocol::option).collect(Collectors.joining(", ")))));
    }

    @Override
    public String toString() {
        return title;
    }
}
