package dev.kemu.boot.limine;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.Segment;
import dev.kemu.machine.VirtAddr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The requests and the base revision tag in a kernel's loaded image, found as PROTOCOL.md says a loader finds them:
 * by their magic quads at 8-byte aligned addresses, only between the last start marker and the first end marker
 * when the image has them ("Requests Delimiters"; kemu honours them for every base revision, which revision 2
 * requires and revisions 0 and 1 allow). A request id that appears twice makes the image unbootable, as the
 * protocol says.
 *
 * <pre>
 *   base revision tag   u64 0xf9562b2d5c95a6c8, u64 0x6a7b384944536bdc, u64 N   (the loader writes 0 to N
 *                                                                                when it supports N)
 *   start marker        u64 0xf6b8f4b39de7d1ae, 0xfab91a6940fcb9cf, 0x785c6ed015d3e316, 0x181e920a7852b9d9
 *   end marker          u64 0xadc0e0531bb10d03, 0x9572709f31764c62
 * </pre>
 */
public record LimineRequests(Optional<BaseRevisionTag> baseRevision, List<LimineRequest> requests) {
    static final long BASE_REVISION_0 = 0xf9562b2d5c95a6c8L, BASE_REVISION_1 = 0x6a7b384944536bdcL;
    private static final long[] START = {0xf6b8f4b39de7d1aeL, 0xfab91a6940fcb9cfL, 0x785c6ed015d3e316L,
            0x181e920a7852b9d9L};
    private static final long[] END = {0xadc0e0531bb10d03L, 0x9572709f31764c62L};
    private static final int REQUEST_QUADS = 8;

    /** The base revision tag: where it is and the revision it asks for. */
    public record BaseRevisionTag(VirtAddr address, long revision) {}

    /** Whether the image carries anything of the Limine protocol (a base revision tag or a request). */
    public boolean any() {
        return baseRevision.isPresent() || !requests.isEmpty();
    }

    public Optional<LimineRequest> find(LimineFeature feature) {
        return requests.stream().filter(r -> r.feature().equals(Optional.of(feature))).findFirst();
    }

    /** Scans the file bytes of {@code segments} (bss holds only zeros, so no request lives there). */
    public static LimineRequests scan(Path path, List<Segment> segments) {
        List<Segment> ordered = segments.stream()
                .sorted(Comparator.comparing(Segment::vaddr, Long::compareUnsigned)).toList();
        long from = 0, to = -1L; // unsigned bounds of the delimited area
        boolean endSeen = false;
        for (Segment s : ordered) {
            Quads q = new Quads(s);
            for (int at = q.first(); at + 8 <= s.data().length; at += 8) {
                if (q.matches(at, START)) {
                    from = s.vaddr() + at + START.length * 8L;
                } else if (!endSeen && q.matches(at, END)) {
                    to = s.vaddr() + at;
                    endSeen = true;
                }
            }
        }
        Optional<BaseRevisionTag> revision = Optional.empty();
        List<LimineRequest> requests = new ArrayList<>();
        Map<String, LimineRequest> byId = new HashMap<>();
        for (Segment s : ordered) {
            Quads q = new Quads(s);
            for (int at = q.first(); at + 8 <= s.data().length; at += 8) {
                long address = s.vaddr() + at;
                if (Long.compareUnsigned(address, from) < 0 || Long.compareUnsigned(address, to) >= 0) {
                    continue;
                }
                if (q.matches(at, new long[]{BASE_REVISION_0, BASE_REVISION_1}) && at + 24 <= s.data().length) {
                    revision = Optional.of(new BaseRevisionTag(VirtAddr.of(address), q.quad(at + 16)));
                } else if (q.matches(at, LimineFeature.COMMON_MAGIC) && at + 32 <= s.data().length) {
                    long id2 = q.quad(at + 16), id3 = q.quad(at + 24);
                    long[] members = new long[Math.max(0, Math.min(REQUEST_QUADS, (s.data().length - at) / 8 - 6))];
                    for (int i = 0; i < members.length; i++) {
                        members[i] = q.quad(at + LimineRequest.MEMBERS_OFFSET + 8 * i);
                    }
                    long requestRevision = at + 40 <= s.data().length ? q.quad(at + 32) : 0;
                    LimineRequest request = new LimineRequest(VirtAddr.of(address), LimineFeature.byId(id2, id3), id2,
                            id3, requestRevision, members);
                    LimineRequest twin = byId.put(id2 + ":" + id3, request);
                    if (twin != null) {
                        throw new ElfFormatException(String.format("%s: the Limine request %s is in the image twice "
                                + "(also at %s); the protocol allows one of each, so no Limine loader boots it; keep "
                                + "one", path, request.describe(), twin.address()));
                    }
                    requests.add(request);
                    at += 24; // the id's other quads are not candidates
                }
            }
        }
        return new LimineRequests(revision, List.copyOf(requests));
    }

    /** Little-endian quads of a segment's file bytes, at offsets whose virtual address is 8-byte aligned. */
    private record Quads(Segment segment, ByteBuffer bytes) {
        Quads(Segment segment) {
            this(segment, ByteBuffer.wrap(segment.data()).order(ByteOrder.LITTLE_ENDIAN));
        }

        int first() {
            return (int) ((8 - (segment.vaddr() & 7)) & 7);
        }

        long quad(int at) {
            return bytes.getLong(at);
        }

        boolean matches(int at, long[] magic) {
            if (at + magic.length * 8 > segment.data().length) {
                return false;
            }
            for (int i = 0; i < magic.length; i++) {
                if (bytes.getLong(at + 8 * i) != magic[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
