package dev.kemu.machine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The machine's I/O port space: devices claim port ranges, and an {@code in} or {@code out}
 * goes to the device that claimed its port. Lookup is one array load, so port I/O pays
 * nothing for the number of devices. Unclaimed ports read as all ones and swallow writes,
 * like a floating ISA bus.
 */
public final class DeviceBus {
    private static final Logger log = LoggerFactory.getLogger(DeviceBus.class);
    private static final int PORTS = 0x10000;

    private final PortDevice[] ports = new PortDevice[PORTS];
    private final List<PortClaim> claims = new ArrayList<>();

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
                java.util.Arrays.fill(ports, first, first + count, null);
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
        java.util.Arrays.fill(ports, first, first + count, device);
        return claim;
    }

    /** The device behind {@code port}, or null. */
    public PortDevice device(int port) {
        return ports[port & 0xffff];
    }

    void out(Machine machine, int port, int size, int value) {
        PortDevice device = ports[port & 0xffff];
        if (device != null) {
            device.write(machine, port, size, value);
        } else if (log.isTraceEnabled()) {
            log.trace("out to unclaimed port 0x{}: 0x{}", Integer.toHexString(port), Integer.toHexString(value));
        }
    }

    int in(Machine machine, int port, int size) {
        PortDevice device = ports[port & 0xffff];
        return device != null ? device.read(machine, port, size) : -1;
    }
}
