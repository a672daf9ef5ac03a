package dev.kemu.boot.limine;

import dev.kemu.machine.VirtAddr;

import java.util.Optional;

/**
 * One request found in the kernel image: where it is (virtual), which feature it asks for (empty for an id with the
 * common magic that the specification kemu follows does not define), its revision, and the quads after its
 * {@code response} pointer as the image holds them (request-specific fields: stack size, paging mode, entry point).
 *
 * <pre>
 *   +0   u64 id[4]     common magic (2 quads), feature id (2 quads)
 *   +32  u64 revision
 *   +40  u64 response  written by the loader (an HHDM pointer) when it answers
 *   +48  ...           request-specific members
 * </pre>
 */
public record LimineRequest(VirtAddr address, Optional<LimineFeature> feature, long id2, long id3, long revision,
                            long[] members) {
    public static final int RESPONSE_OFFSET = 40, MEMBERS_OFFSET = 48;

    /** Request member {@code index} (0 = the first after {@code response}), 0 when the image ends before it. */
    public long member(int index) {
        return index < members.length ? members[index] : 0;
    }

    public String describe() {
        return feature.map(LimineFeature::title).orElse(String.format("unknown id 0x%016x 0x%016x", id2, id3))
                + " at " + address;
    }
}
