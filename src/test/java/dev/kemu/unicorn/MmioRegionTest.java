package dev.kemu.unicorn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binding's MMIO regions: what they own, and what closing them or the engine releases. */
class MmioRegionTest {
    private static final long BASE = 0xfee0_0000L;

    @Test
    void close_unmapsTheRange_andReleasesBothRegistryEntries() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            MmioRegion region = uc.mmioMap(BASE, 0x1000, (u, offset, size) -> 0, (u, offset, size, value) -> {});
            long[] ids = region.targetIds();
            assertNotNull(UpcallTargets.target(ids[0]));
            assertNotNull(UpcallTargets.target(ids[1]));
            assertTrue(uc.memRegions().stream().anyMatch(r -> r.begin() == BASE), uc.memRegions().toString());
            region.close();
            region.close(); // harmless
            assertNull(UpcallTargets.target(ids[0]));
            assertNull(UpcallTargets.target(ids[1]));
            assertTrue(uc.memRegions().stream().noneMatch(r -> r.begin() == BASE), uc.memRegions().toString());
        }
    }

    @Test
    void engineClose_releasesTheRegistryEntries_andALaterCloseIsHarmless() {
        Unicorn uc = Unicorn.openX86_64();
        MmioRegion region = uc.mmioMap(BASE, 0x1000, (u, offset, size) -> 0, (u, offset, size, value) -> {});
        long[] ids = region.targetIds();
        uc.close();
        assertNull(UpcallTargets.target(ids[0]));
        assertNull(UpcallTargets.target(ids[1]));
        region.close();
    }

    @Test
    void mapOverAnExistingMapping_failsNamingTheCall() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.memMap(BASE, 0x1000, Prot.ALL);
            UnicornException e = assertThrows(UnicornException.class,
                    () -> uc.mmioMap(BASE, 0x1000, (u, offset, size) -> 0, (u, offset, size, value) -> {}));
            assertEquals(UcError.MAP, e.error());
            assertTrue(e.getMessage().contains("uc_mmio_map(address=0xfee00000, size=0x1000)"), e.getMessage());
        }
    }
}
