package dev.kemu.boot.limine;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.Segment;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finding requests as PROTOCOL.md says: by magic, 8-byte aligned, only between the markers when there are some. */
class LimineRequestsTest {
    private static final Path IMAGE = Path.of("kernel.elf");
    private static final long BASE = 0xffff_ffff_8000_0000L;
    private static final long[] START = {0xf6b8f4b39de7d1aeL, 0xfab91a6940fcb9cfL, 0x785c6ed015d3e316L,
            0x181e920a7852b9d9L};
    private static final long[] END = {0xadc0e0531bb10d03L, 0x9572709f31764c62L};
    private static final long[] HHDM = {LimineFeature.COMMON_MAGIC_0, LimineFeature.COMMON_MAGIC_1,
            0x48dcf1cb8ad2b852L, 0x63984e959a98244bL, 0, 0};
    private static final long[] KERNEL_ADDRESS = {LimineFeature.COMMON_MAGIC_0, LimineFeature.COMMON_MAGIC_1,
            0x71ba76863cc55f63L, 0xb2644a48c516a487L, 0, 0};
    private static final long[] REVISION_2 = {LimineRequests.BASE_REVISION_0, LimineRequests.BASE_REVISION_1, 2};

    /** One segment of {@code quads} at offset {@code slots * 8} each, the rest zero. */
    private static Segment segment(long[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] part : parts) {
            for (long quad : part) {
                b.putLong(quad);
            }
            b.putLong(0);
        }
        return new Segment(BASE, 0x100000, 1024, Segment.READ | Segment.WRITE, b.array());
    }

    @Test
    void withoutMarkers_everyRequestAndTheBaseRevisionAreFound() {
        LimineRequests found = LimineRequests.scan(IMAGE, List.of(segment(REVISION_2, HHDM, KERNEL_ADDRESS)));
        assertEquals(Optional.of(2L), found.baseRevision().map(LimineRequests.BaseRevisionTag::revision));
        assertEquals(List.of(Optional.of(LimineFeature.HHDM), Optional.of(LimineFeature.KERNEL_ADDRESS)),
                found.requests().stream().map(LimineRequest::feature).toList());
        assertEquals(BASE + 32, found.requests().getFirst().address().value());
    }

    @Test
    void requestsOutsideTheMarkers_areIgnored() {
        LimineRequests found = LimineRequests.scan(IMAGE, List.of(segment(HHDM, START, REVISION_2, KERNEL_ADDRESS,
                END, HHDM)));
        assertEquals(List.of(Optional.of(LimineFeature.KERNEL_ADDRESS)),
                found.requests().stream().map(LimineRequest::feature).toList());
        assertTrue(found.baseRevision().isPresent());
    }

    @Test
    void misalignedRequest_isNotFound() {
        Segment aligned = segment(HHDM);
        byte[] shifted = new byte[aligned.data().length];
        System.arraycopy(aligned.data(), 0, shifted, 4, shifted.length - 4);
        assertTrue(LimineRequests.scan(IMAGE, List.of(new Segment(BASE, 0x100000, shifted.length, Segment.READ,
                shifted))).requests().isEmpty());
    }

    @Test
    void sameRequestTwice_isRefused() {
        ElfFormatException e = assertThrows(ElfFormatException.class,
                () -> LimineRequests.scan(IMAGE, List.of(segment(HHDM, HHDM))));
        assertEquals("kernel.elf: the Limine request HHDM at V0xffffffff80000038 is in the image twice (also at "
                + "V0xffffffff80000000); the protocol allows one of each, so no Limine loader boots it; keep one",
                e.getMessage());
    }

    @Test
    void unknownId_isKeptAsUnknown() {
        long[] unknown = {LimineFeature.COMMON_MAGIC_0, LimineFeature.COMMON_MAGIC_1, 0x1234, 0x5678, 0, 0};
        LimineRequest request = LimineRequests.scan(IMAGE, List.of(segment(unknown))).requests().getFirst();
        assertEquals(Optional.empty(), request.feature());
        assertEquals("unknown id 0x0000000000001234 0x0000000000005678 at V0xffffffff80000000", request.describe());
    }
}
