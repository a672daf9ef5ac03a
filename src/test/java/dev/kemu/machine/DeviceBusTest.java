package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Port routing of the device bus, driven by real in/out instructions on a bare machine. */
class DeviceBusTest {
    // mov dx, 0x3f9 ; mov al, 0x5a ; out dx, al ; in al, dx ; mov dx, 0x80 ; in al, dx (into BL) ; hlt
    private static final byte[] CODE = {
            0x66, (byte) 0xBA, (byte) 0xF9, 0x03,  // mov dx, 0x3f9
            (byte) 0xB0, 0x5A,                     // mov al, 0x5a
            (byte) 0xEE,                           // out dx, al
            (byte) 0xEC,                           // in al, dx
            (byte) 0x88, (byte) 0xC1,              // mov cl, al
            0x66, (byte) 0xBA, (byte) 0x80, 0x00,  // mov dx, 0x80
            (byte) 0xEC,                           // in al, dx
            (byte) 0xF4};                          // hlt

    private record Access(int port, int value) {}

    /** Records writes and answers reads with the low byte of the port plus one. */
    private static final class Recorder implements PortDevice {
        final List<Access> writes = new ArrayList<>();

        @Override
        public void write(Machine machine, int port, int size, int value) {
            writes.add(new Access(port, value & 0xff));
        }

        @Override
        public int read(Machine machine, int port, int size) {
            return (port + 1) & 0xff;
        }
    }

    @Test
    void claimedRange_receivesEveryPortInIt_andUnclaimedPortsReadAllOnes() {
        try (Machine machine = new Machine(1 << 20)) {
            Recorder uart = new Recorder();
            machine.bus().claimPorts(0x3f8, 8, uart);
            machine.ram().write(0x1000, CODE);
            machine.setRegister(X86Reg.RAX, 0);
            RunResult result = machine.run(0x1000, RunLimits.budget(100));
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(List.of(new Access(0x3f9, 0x5a)), uart.writes);
            assertEquals(0xfa, machine.register(X86Reg.RCX) & 0xff, "in from the claimed port 0x3f9");
            assertEquals(0xff, machine.register(X86Reg.RAX) & 0xff, "in from unclaimed port 0x80");
        }
    }

    @Test
    void overlappingClaim_isRefusedWithBothRanges() {
        DeviceBus bus = new DeviceBus();
        bus.claimPorts(0x3f8, 8, new Recorder());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> bus.claimPorts(0x3ff, 2, new Recorder()));
        assertEquals("ports 0x3ff-0x400 overlap 0x3f8-0x3ff, already claimed by Recorder; close that claim first",
                e.getMessage());
    }

    @Test
    void closedClaim_freesItsPortsForAnotherDevice() {
        DeviceBus bus = new DeviceBus();
        Recorder first = new Recorder();
        DeviceBus.PortClaim claim = bus.claimPorts(0x60, 5, first);
        claim.close();
        assertEquals(null, bus.device(0x62));
        Recorder second = new Recorder();
        bus.claimPorts(0x60, 1, second);
        assertTrue(bus.device(0x60) == second);
    }

    @Test
    void rangeOutsideTheIoSpace_isRefused() {
        DeviceBus bus = new DeviceBus();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bus.claimPorts(0xfffe, 4, new Recorder()));
        assertEquals("port range 0xfffe + 4 is outside the I/O space 0x0-0xffff", e.getMessage());
    }

    @Test
    void unclaimedPortRead_isAllOnesAtTheAccessWidth_andCounted() {
        DeviceBus bus = new DeviceBus();
        assertEquals(0xff, bus.in(null, 0x3e8, 1));
        assertEquals(0xffff, bus.in(null, 0x3e8, 2));
        assertEquals(0xffff_ffff, bus.in(null, 0x3e8, 4));
        bus.out(null, 0x3ea, 1, 0);
        assertEquals("0x3e8 (3 reads), 0x3ea (1 write)", bus.unclaimedPorts().toString());
        bus.claimPorts(0x3e9, 1, new Recorder());
        bus.in(null, 0x3e9, 1);
        assertEquals("0x3e8 (3 reads), 0x3ea (1 write)", bus.unclaimedPorts().toString(), "claimed ports are not listed");
    }

    /** The summary's ranges: every touched port in exactly one, adjacent ports merged, counts summed. */
    @Property(tries = 300)
    void unclaimedRanges_coverEachTouchedPortOnce_mergeNeighbours_andKeepTheCounts(
            @ForAll @Size(max = 60) List<@IntRange(min = 0, max = 40) Integer> reads,
            @ForAll @Size(max = 60) List<@IntRange(min = 0, max = 40) Integer> writes) {
        UnclaimedPorts ports = new UnclaimedPorts();
        reads.forEach(ports::read);
        writes.forEach(ports::written);
        List<UnclaimedPorts.Range> ranges = ports.ranges();
        java.util.Set<Integer> touched = new java.util.TreeSet<>(reads);
        touched.addAll(writes);
        int covered = 0;
        for (int i = 0; i < ranges.size(); i++) {
            UnclaimedPorts.Range range = ranges.get(i);
            for (int port = range.first(); port <= range.last(); port++) {
                assertTrue(touched.contains(port), "range " + range + " holds untouched port " + port);
                covered++;
            }
            final int first = range.first(), last = range.last();
            assertEquals(reads.stream().filter(p -> p >= first && p <= last).count(), range.reads(), range.toString());
            assertEquals(writes.stream().filter(p -> p >= first && p <= last).count(), range.writes(), range.toString());
            if (i > 0) {
                assertTrue(ranges.get(i - 1).last() + 1 < range.first(), "adjacent ranges not merged: " + ranges);
            }
        }
        assertEquals(touched.size(), covered);
    }
}
