package dev.kemu.kernel.hostile;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every hypercall argument is checked as the 64-bit register it arrived in, and unknown
 * flag bits are -EINVAL for every service that takes flags (issue 10).
 */
class KernelServicesArgumentsTest {
    private static final long HIGH = 1L << 32;
    private static HypercallDriver driver;

    @BeforeAll
    static void boot() {
        driver = new HypercallDriver();
    }

    @AfterAll
    static void close() {
        driver.close();
    }

    @BeforeEach
    void reset() {
        driver.reset();
    }

    @Test
    void cacheIds_withHighBitsSet_doNotSelectTheCacheOfTheLowBits() {
        long id = guestCache("mine");
        assertEquals(EINVAL, driver.call(HC_CACHE_ALLOC, 0x1_0000_0003L, 0), "0x1_0000_0003 must not select cache 3");
        assertEquals(EINVAL, driver.call(HC_CACHE_ALLOC, id + HIGH, 0));
        long object = driver.call(HC_CACHE_ALLOC, id, ALLOC_ZERO);
        assertFalse(HostileCorpusTest.isError(object));
        assertEquals(EINVAL, driver.call(HC_CACHE_FREE, id + HIGH, object));
        assertEquals(EINVAL, driver.call(HC_CACHE_DESTROY, id + HIGH));
        assertEquals(EINVAL, driver.call(HC_CACHE_DESTROY, -1));
        assertEquals(0, driver.call(HC_CACHE_FREE, id, object));
        assertEquals(0, driver.call(HC_CACHE_DESTROY, id));
        assertEquals(List.of(), driver.memory().check());
    }

    @Test
    void unknownFlagBits_areInvalidForEveryServiceWithFlags() {
        long id = guestCache("flags");
        assertEquals(EINVAL, driver.call(HC_CACHE_ALLOC, id, 2));
        assertEquals(EINVAL, driver.call(HC_KMALLOC, 20, 2));
        assertEquals(EINVAL, driver.call(HC_KMALLOC, 20, 1L << 40));
        assertEquals(EINVAL, driver.call(HC_FRAME_ALLOC, 0, 2));
        assertEquals(EINVAL, driver.call(HC_VMA_RESERVE, 4096, 1L << 9));
        assertEquals(EINVAL, driver.call(HC_VMMAP, 0x4000_0000_0000L, 0x200000, 1L << 9));
        assertEquals(EINVAL, driver.call(HC_PROTECT, 0x200000, 1L << 9));
        assertEquals(List.of(), driver.memory().check());
    }

    @Test
    void ordersSelectorsAndSizes_outOfRangeAsFullRegisters_areInvalid() {
        long frame = driver.call(HC_FRAME_ALLOC, 0, 0);
        assertEquals(EINVAL, driver.call(HC_FRAME_FREE, frame, 0xffff_ffff_0000_0000L), "order 0 in the low half only");
        assertEquals(FrameType.ALLOCATED, FrameTable.of(driver.memory().root()).type(frame / 4096));
        assertEquals(EINVAL, driver.call(HC_FRAME_ALLOC, HIGH, 0));
        assertEquals(EINVAL, driver.call(HC_MM_STAT, HIGH + STAT_FREE_FRAMES));
        assertEquals(EINVAL, driver.call(HC_MM_STAT, -1));
        assertEquals(EINVAL, driver.call(HC_VMA_RESERVE, 0, 0));
        assertEquals(EINVAL, driver.call(HC_VMALLOC, 0));
        assertEquals(0, driver.call(HC_FRAME_FREE, frame, 0));
        assertEquals(List.of(), driver.memory().check());
    }

    /** Creates a cache named {@code name} (the name written into a kmalloc'd buffer) and returns its id. */
    private static long guestCache(String name) {
        long buffer = driver.call(HC_KMALLOC, 32, ALLOC_ZERO);
        driver.machine().machine().ram().write(driver.memory().root().toPhysical(VirtAddr.of(buffer)).value(),
                (name + "\0").getBytes(StandardCharsets.US_ASCII));
        long id = driver.call(HC_CACHE_CREATE, buffer, 48, 16, 0);
        assertFalse(HostileCorpusTest.isError(id), "cache id " + id);
        return id;
    }
}
