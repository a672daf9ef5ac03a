package dev.kemu.machine;

import dev.kemu.unicorn.MmioRegion;
import dev.kemu.unicorn.Unicorn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The machine's devices: port devices claim I/O port ranges, memory-mapped devices claim
 * guest-physical ranges. An {@code in} or {@code out} goes to the device that claimed its port;
 * lookup is two array loads ({@link PortTable}), so port I/O pays nothing for the number of
 * devices. Unclaimed ports read as all ones and swallow writes, like a floating ISA bus. A
 * memory-mapped claim becomes a Unicorn MMIO region, so loads and stores there reach the device
 * through the emulated MMU whether paging is on or off, and the rest of guest RAM pays nothing
 * for it.
 */
public final class DeviceBus {
    private static final Logger log = LoggerFactory.getLogger(DeviceBus.class);
    private static final int PORTS = PortTable.PORTS;

    /** Unicorn's x86-64 physical address space: 52 bits. */
    static final long PHYSICAL_LIMIT = 1L << 52;
    private static final long PAGE = 0x1000;

    private final PortTable ports = new PortTable();
    private final List<PortClaim> claims = new ArrayList<>();
    private final List<MemoryClaim> memoryClaims = new ArrayList<>();
    private final UnclaimedPorts unclaimed = new UnclaimedPorts();
    private final Machine machine;
    private final Unicorn engine;
    private final PhysicalRange ram;

    /** A bus with ports only (no engine): {@link #claimMemory} is refused. */
    public DeviceBus() {
        this(null, null, 0);
    }

    /** The bus of {@code machine}: memory-mapped devices go into {@code engine} around guest RAM at 0. */
    DeviceBus(Machine machine, Unicorn engine, long ramBytes) {
        this.machine = machine;
        this.engine = engine;
        this.ram = ramBytes > 0 ? new PhysicalRange(0, ramBytes) : null;
    }

    /** A claimed port range; closing it frees the ports. */
    public final class PortClaim implements Machine.Subscription {
        private final int first;
        private final int count;
        private final PortDevice device;
        private boolean open = true;

        private PortClaim(int first, int count, PortDevice device) {
            this.first = first;
            this.count = count;
            this.device = device;
        }

        public int first() {
            return first;
        }

        public int count() {
            return count;
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                ports.fill(first, count, null);
                claims.remove(this);
            }
        }
    }

    /**
     * Puts {@code device} behind ports {@code [first, first + count)}. A range that overlaps one
     * already claimed is refused: two devices answering one port is a wiring mistake, not a choice.
     */
    public PortClaim claimPorts(int first, int count, PortDevice device) {
        if (first < 0 || count <= 0 || first + count > PORTS) {
            throw new IllegalArgumentException(String.format(
                    "port range 0x%x + %d is outside the I/O space 0x0-0xffff", first, count));
        }
        for (PortClaim claim : claims) {
            if (first < claim.first + claim.count && claim.first < first + count) {
                throw new IllegalStateException(String.format(
                        "ports 0x%x-0x%x overlap 0x%x-0x%x, already claimed by %s; close that claim first",
                        first, first + count - 1, claim.first, claim.first + claim.count - 1,
                        claim.device.getClass().getSimpleName()));
            }
        }
        PortClaim claim = new PortClaim(first, count, device);
        claims.add(claim);
        ports.fill(first, count, device);
        return claim;
    }

    /** A claimed guest-physical range; closing it unmaps the range and frees it for another device. */
    public final class MemoryClaim implements Machine.Subscription {
        private final PhysicalRange range;
        private final MmioDevice device;
        private final MmioRegion region;
        private boolean open = true;

        private MemoryClaim(PhysicalRange range, MmioDevice device, MmioRegion region) {
            this.range = range;
            this.device = device;
            this.region = region;
        }

        public PhysAddr first() {
            return PhysAddr.of(range.first());
        }

        public long size() {
            return range.size();
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                memoryClaims.remove(this);
                region.close();
            }
        }
    }

    /**
     * Puts {@code device} behind guest-physical {@code [first, first + size)}. Both must be
     * 4 KiB-aligned (Unicorn maps whole pages), and the range may overlap neither guest RAM nor
     * another device's range: the message names both ranges.
     */
    public MemoryClaim claimMemory(PhysAddr first, long size, MmioDevice device) {
        if (engine == null) {
            throw new IllegalStateException("this device bus has ports only; claim memory on a Machine's bus()");
        }
        java.util.Objects.requireNonNull(device, "claimMemory needs a device to put behind the range");
        long start = first.value();
        if (!first.isPageAligned() || size <= 0 || (size & (PAGE - 1)) != 0) {
            throw new IllegalArgumentException(String.format("memory-mapped range %s + 0x%x is not a whole number of "
                    + "4 KiB pages: give a 4 KiB-aligned address and a positive size that is a multiple of 0x1000",
                    first, size));
        }
        if (Long.compareUnsigned(start, PHYSICAL_LIMIT) >= 0 || PHYSICAL_LIMIT - start < size) {
            throw new IllegalArgumentException(String.format("memory-mapped range %s + 0x%x ends beyond the 52-bit "
                    + "physical address space (%s)", first, size, PhysAddr.of(PHYSICAL_LIMIT - 1)));
        }
        PhysicalRange range = new PhysicalRange(start, size);
        if (ram != null && range.overlaps(ram)) {
            throw new IllegalStateException("memory-mapped range " + range + " overlaps guest RAM " + ram
                    + "; place the device above the end of RAM");
        }
        for (MemoryClaim claim : memoryClaims) {
            if (range.overlaps(claim.range)) {
                throw new IllegalStateException("memory-mapped range " + range + " overlaps " + claim.range
                        + ", already claimed by " + claim.device.getClass().getSimpleName() + "; close that claim first");
            }
        }
        MmioRegion region = engine.mmioMap(start, size,
                (uc, offset, width) -> device.read(machine, offset, width),
                (uc, offset, width, value) -> device.write(machine, offset, width, value));
        MemoryClaim claim = new MemoryClaim(range, device, region);
        memoryClaims.add(claim);
        return claim;
    }

    /** The device behind {@code port}, or null. */
    public PortDevice device(int port) {
        return ports.get(port);
    }

    /** The ports the guest used that no device claimed, with counts; see {@link UnclaimedPorts}. */
    public UnclaimedPorts unclaimedPorts() {
        return unclaimed;
    }

    void out(Machine machine, int port, int size, int value) {
        PortDevice device = ports.get(port);
        if (device != null) {
            device.write(machine, port, size, value);
            return;
        }
        unclaimed.written(port);
        if (log.isTraceEnabled()) {
            log.trace("out to unclaimed port 0x{}: 0x{}", Integer.toHexString(port), Integer.toHexString(value));
        }
    }

    int in(Machine machine, int port, int size) {
        PortDevice device = ports.get(port);
        if (device != null) {
            return device.read(machine, port, size);
        }
        unclaimed.read(port);
        return allOnes(size);
    }

    /** What a floating bus reads: all ones, as wide as the access (0xff, 0xffff, 0xffffffff). */
    static int allOnes(int size) {
        return size >= 4 ? -1 : (1 << (8 * size)) - 1;
    }
}
