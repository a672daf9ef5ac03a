package dev.kemu.boot.limine;

import java.util.Arrays;
import java.util.Optional;

/**
 * The Limine protocol's features (PROTOCOL.md, "Feature List"), each known by the last two quads of its request
 * id (the first two are {@link #COMMON_MAGIC}), and whether kemu answers it. A request kemu does not answer keeps
 * its response pointer untouched, as the protocol allows, and is named in the loader's note.
 */
public enum LimineFeature {
    BOOTLOADER_INFO("bootloader info", 0xf55038d8e2a1202fL, 0x279426fcf5f59740L, true),
    FIRMWARE_TYPE("firmware type", 0x8c2f75d90bef28a8L, 0x7045a4688eac00c3L, true),
    STACK_SIZE("stack size", 0x224ef0460a8e8926L, 0xe1cb0fc25f46ea3dL, true),
    HHDM("HHDM", 0x48dcf1cb8ad2b852L, 0x63984e959a98244bL, true),
    FRAMEBUFFER("framebuffer", 0x9d5827dcd881dd75L, 0xa3148604f6fab11bL, false),
    PAGING_MODE("paging mode", 0x95c1a0edab0944cbL, 0xa4e5cb3842f7488aL, true),
    SMP("SMP", 0x95a67b819a1b857eL, 0xa0b61b723b6a73e0L, true),
    MEMORY_MAP("memory map", 0x67cf3d9d378a806fL, 0xe304acdfc50c3c62L, true),
    ENTRY_POINT("entry point", 0x13d86c035a1cd3e1L, 0x2b0caa89d8f3026aL, true),
    KERNEL_FILE("kernel file", 0xad97e90e83f1ed67L, 0x31eb5d1c5ff23b69L, true),
    MODULE("module", 0x3e7e279702be32afL, 0xca1c4f3bd1280ceeL, true),
    RSDP("RSDP", 0xc5e77b6b397e7b43L, 0x27637845accdcf3cL, true),
    SMBIOS("SMBIOS", 0x9e9046f11e095391L, 0xaa4a520fefbde5eeL, false),
    EFI_SYSTEM_TABLE("EFI system table", 0x5ceba5163eaaf6d6L, 0x0a6981610cf65fccL, false),
    EFI_MEMORY_MAP("EFI memory map", 0x7df62a431d6872d5L, 0xa4fcdfb3e57306c8L, false),
    BOOT_TIME("boot time", 0x502746e184c088aaL, 0xfbc5ec83e6327893L, false),
    KERNEL_ADDRESS("kernel address", 0x71ba76863cc55f63L, 0xb2644a48c516a487L, true),
    DEVICE_TREE_BLOB("device tree blob", 0xb40ddb48fb54bac7L, 0x545081493f81ffb7L, false);

    /** The first two quads of every request id. */
    public static final long COMMON_MAGIC_0 = 0xc7b1dd30df4c8b88L, COMMON_MAGIC_1 = 0x0a82e883a194f07bL;
    public static final long[] COMMON_MAGIC = {COMMON_MAGIC_0, COMMON_MAGIC_1};

    private final String title;
    private final long id2, id3;
    private final boolean answered;

    LimineFeature(String title, long id2, long id3, boolean answered) {
        this.title = title;
        this.id2 = id2;
        this.id3 = id3;
        this.answered = answered;
    }

    public String title() {
        return title;
    }

    /** Whether kemu answers the request (RSDP when guest RAM holds the RSDP of kemu's ACPI tables, see AcpiRsdp). */
    public boolean answered() {
        return answered;
    }

    public static Optional<LimineFeature> byId(long id2, long id3) {
        return Arrays.stream(values()).filter(f -> f.id2 == id2 && f.id3 == id3).findFirst();
    }
}
