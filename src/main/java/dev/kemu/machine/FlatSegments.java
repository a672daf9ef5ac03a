package dev.kemu.machine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The flat 64-bit GDT and the machine code that switches privilege in the scratch engines of
 * the calibrations (and the tests that check them against the emulated CPU): one definition of
 * the selectors kemu's own kernel uses, 0x08 kernel code, 0x10 kernel data, 0x1b user data
 * (RPL 3), 0x23 user code (RPL 3).
 */
final class FlatSegments {
    /** null, kernel code (L), kernel data, user data (DPL 3), user code (L, DPL 3). */
    static final long[] GDT = {0, 0x00af9a000000ffffL, 0x00cf92000000ffffL, 0x00cff2000000ffffL, 0x00affa000000ffffL};
    static final int KERNEL_CS = 0x08, KERNEL_SS = 0x10, USER_SS = 0x1b, USER_CS = 0x23;

    private FlatSegments() {}

    /** The 10-byte operand of {@code lgdt} for {@link #GDT} at {@code base}. */
    static byte[] gdtr(long base) {
        return ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN).putShort((short) (GDT.length * 8 - 1))
                .putLong(base).array();
    }

    /**
     * {@code lgdt [gdtr]} (a 32-bit absolute address), a far return to CS 0x08 and SS 0x10:
     * the CPU then runs in ring 0 with kemu's selectors. The caller appends what comes next.
     */
    static byte[] loadKernelSegments(long gdtr) {
        return ByteBuffer.allocate(26).order(ByteOrder.LITTLE_ENDIAN)
                .put(new byte[]{0x0F, 0x01, 0x14, 0x25}).putInt(Math.toIntExact(gdtr)) // lgdt [gdtr]
                .put(new byte[]{0x6A, KERNEL_CS})                                       // push 0x08
                .put(new byte[]{0x48, (byte) 0x8D, 0x05, 0x03, 0, 0, 0})                // lea rax, [rip + 3]
                .put((byte) 0x50)                                                       // push rax
                .put(new byte[]{0x48, (byte) 0xCB})                                     // retfq: CS = 0x08
                .put(new byte[]{0x66, (byte) 0xB8, KERNEL_SS, 0x00})                    // mov ax, 0x10
                .put(new byte[]{(byte) 0x8E, (byte) 0xD0})                              // mov ss, ax
                .array();
    }

    /** An {@code iretq} to ring 3 at {@code rip} with stack {@code rsp} (both below 2 GiB), RFLAGS 2. */
    static byte[] iretToUser(long rip, long rsp) {
        return ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN)
                .put(new byte[]{0x6A, USER_SS})                       // push 0x1b (SS)
                .put((byte) 0x68).putInt(Math.toIntExact(rsp))        // push rsp
                .put(new byte[]{0x6A, 0x02})                          // push 2 (RFLAGS)
                .put(new byte[]{0x6A, USER_CS})                       // push 0x23 (CS)
                .put((byte) 0x68).putInt(Math.toIntExact(rip))        // push rip
                .put(new byte[]{0x48, (byte) 0xCF})                   // iretq
                .array();
    }

    /** {@code parts} one after the other. */
    static byte[] concat(byte[]... parts) {
        ByteBuffer all = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] part : parts) {
            all.put(part);
        }
        return all.array();
    }
}
