package dev.kemu.kernel.hostile;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The address-space services take a space handle (its PML4's physical address) that the guest
 * may forge: anything but a live space's exact handle is -EINVAL, and no forged handle, range or
 * flag changes guest RAM or leaves a checker finding.
 */
class SpaceServicesArgumentsTest {
    private static final long RW_USER = 6;
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
    void forgedHandles_areInvalid() {
        long space = driver.call(HC_SPACE_CREATE);
        assertFalse(HostileCorpusTest.isError(space));
        long kernelPml4 = driver.memory().root().pml4().value();
        for (long forged : List.of(0L, -1L, space + 1, space | 0x18, space + (1L << 32), space + 4096, kernelPml4,
                driver.memory().root().toVirtual(dev.kemu.machine.PhysAddr.of(space)).value())) {
            String what = "handle 0x" + Long.toHexString(forged);
            assertEquals(EINVAL, driver.call(HC_SPACE_DESTROY, forged), what);
            assertEquals(EINVAL, driver.call(HC_SPACE_CLONE, forged), what);
            assertEquals(EINVAL, driver.call(HC_SPACE_MAP, forged, 0x400000, 4096, RW_USER), what);
            assertEquals(EINVAL, driver.call(HC_SPACE_UNMAP, forged, 0x400000, 4096), what);
            assertEquals(EINVAL, driver.call(HC_SPACE_PROTECT, forged, 0x400000, 4096, RW_USER), what);
        }
        assertEquals(0, driver.call(HC_SPACE_DESTROY, space));
        assertEquals(EINVAL, driver.call(HC_SPACE_DESTROY, space), "a destroyed space's handle");
        assertEquals(List.of(), driver.memory().check());
    }

    @Test
    void rangesAndFlags_outsideTheRules_areRefused() {
        long space = driver.call(HC_SPACE_CREATE);
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0, 4096, RW_USER), "the NULL page");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x400008, 4096, RW_USER), "misaligned");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x400000, 0, RW_USER), "empty");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x400000, -4096, RW_USER), "wraps");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x7fff_ffff_f000L, 8192, RW_USER), "crosses into the hole");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0xffff_8000_0000_0000L, 4096, RW_USER), "kernel half");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x400000, 4096, RW_USER | 0x100), "global");
        assertEquals(EINVAL, driver.call(HC_SPACE_MAP, space, 0x400000, 4096, RW_USER | (1L << 9)), "unknown bit");
        assertEquals(0, driver.call(HC_SPACE_MAP, space, 0x400000, 2 * 4096, RW_USER));
        assertEquals(EEXIST, driver.call(HC_SPACE_MAP, space, 0x401000, 4096, RW_USER));
        assertEquals(EFAULT, driver.call(HC_SPACE_PROTECT, space, 0x400000, 3 * 4096, RW_USER), "a hole in the range");
        assertEquals(0, driver.call(HC_SPACE_UNMAP, space, 0x900000, 4096), "munmap of nothing is not an error");
        long child = driver.call(HC_SPACE_CLONE, space);
        assertFalse(HostileCorpusTest.isError(child));
        assertEquals(0, driver.call(HC_SPACE_DESTROY, space));
        assertEquals(0, driver.call(HC_SPACE_DESTROY, child));
        assertEquals(List.of(), driver.memory().check());
    }
}
