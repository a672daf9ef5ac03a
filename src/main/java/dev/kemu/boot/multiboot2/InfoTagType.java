package dev.kemu.boot.multiboot2;

import java.util.Arrays;

/**
 * The Multiboot 2 information tag types (specification 2.0, section 3.6), with whether kemu's loader gives them.
 * An information request tag in the header names these numbers.
 */
public enum InfoTagType {
    END(0, true), COMMAND_LINE(1, true), BOOT_LOADER_NAME(2, true), MODULE(3, true), BASIC_MEMINFO(4, true),
    BIOS_BOOT_DEVICE(5, false), MEMORY_MAP(6, true), VBE_INFO(7, false), FRAMEBUFFER_INFO(8, false),
    ELF_SYMBOLS(9, false), APM_TABLE(10, false), EFI32_SYSTEM_TABLE(11, false), EFI64_SYSTEM_TABLE(12, false),
    SMBIOS_TABLES(13, false), ACPI_OLD_RSDP(14, true), ACPI_NEW_RSDP(15, true), NETWORKING(16, false),
    EFI_MEMORY_MAP(17, false), EFI_BOOT_SERVICES_NOT_TERMINATED(18, false), EFI32_IMAGE_HANDLE(19, false),
    EFI64_IMAGE_HANDLE(20, false), IMAGE_LOAD_BASE(21, false);

    private final int type;
    private final boolean given;

    InfoTagType(int type, boolean given) {
        this.type = type;
        this.given = given;
    }

    public int type() {
        return type;
    }

    /** Whether kemu writes this tag (the ACPI tags when guest RAM holds the RSDP of kemu's tables, see AcpiRsdp). */
    public boolean given() {
        return given;
    }

    /** The name of tag type {@code type}, or "unknown type N". */
    public static String describe(int type) {
        return Arrays.stream(values()).filter(t -> t.type == type).findFirst()
                .map(t -> t.name().toLowerCase().replace('_', ' ') + " (" + type + ")").orElse("unknown type " + type);
    }

    public static boolean isGiven(int type) {
        return Arrays.stream(values()).anyMatch(t -> t.type == type && t.given);
    }
}
