package dev.kemu.kernel;

/**
 * Numbers shared with the guest, mirrored from {@code kernel-asm/include/kemu.inc}
 * (a test checks that both agree). docs/ABI.md explains them.
 */
public final class GuestAbi {
    public static final long KERNEL_VMA = 0xffff_ffff_8000_0000L;
    public static final int HYPERCALL_PORT = 0xE6;
    public static final int KEMU_MAGIC = 0x6B656D75;
    public static final int MULTIBOOT_HEADER_MAGIC = 0x1BADB002;
    public static final int MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002;

    /** Hypercall numbers (RAX). */
    public static final int HC_PROBE = 0;

    /** Negative errno-style results. */
    public static final long ENOMEM = -12, EFAULT = -14, EEXIST = -17, EINVAL = -22, ENOSYS = -38;

    private GuestAbi() {}
}
