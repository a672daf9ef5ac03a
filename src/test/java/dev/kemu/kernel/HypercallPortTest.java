package dev.kemu.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HypercallPortTest {
    @Test
    void describe_namesTheCall_andPrintsItsDeclaredArgumentsAndResultInHex() {
        long[] args = {24, 1, 0xdead, 0, 0, 0};
        assertEquals("HC_KMALLOC(0x18, 0x1) = 0xffff800000123000",
                HypercallPort.describe(GuestAbi.HC_KMALLOC, args, 2, 0xffff800000123000L));
        assertEquals("HC_MM_STAT(0x18) = 0xffffffffffffffea", HypercallPort.describe(GuestAbi.HC_MM_STAT, args, 1,
                GuestAbi.EINVAL));
        assertEquals("HC_63() = 0xffffffffffffffda", HypercallPort.describe(63, args, 0, GuestAbi.ENOSYS));
    }
}
