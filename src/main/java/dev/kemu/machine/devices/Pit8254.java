package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.interrupts.IrqLine;
import dev.kemu.machine.interrupts.TimedDevice;
import dev.kemu.machine.interrupts.VirtualClock;

/**
 * The 8254 programmable interval timer at ports 0x40-0x43, counting at 1.193182 MHz of virtual time,
 * with port 0x61 (system control port B) for channel 2's gate and OUT2. Channel 0 drives ISA IRQ0 (a
 * pulse at the end of every period in modes 2 and 3, once in mode 0); channel 2 is what calibration
 * loops poll through port 0x61 bit 5. Channel 1 (DRAM refresh) counts but drives nothing. Supported:
 * modes 0, 2 and 3 (4 counts like 0, 1 and 5 like 2 without the hardware trigger), lobyte, hibyte and
 * lobyte/hibyte access, the counter latch command. Not emulated: the read-back command, BCD counting;
 * a gate that rises restarts the count (right for modes 1, 2, 3 and 5; mode 0 would resume instead).
 */
public final class Pit8254 implements PortDevice, TimedDevice {
    public static final int BASE = 0x40, CONTROL = 0x43, PORT_B = 0x61;
    public static final long HZ = 1_193_182;
    private static final long NANOS = 1_000_000_000L;

    private final PitChannel[] channels = {new PitChannel(), new PitChannel(), new PitChannel()};
    private final VirtualClock clock;
    private final IrqLine irq0;
    private final Runnable engaged;
    private int portB;

    /** {@code engaged} runs whenever a counter starts counting: virtual time must advance, the next deadline may move. */
    public Pit8254(VirtualClock clock, IrqLine irq0, Runnable engaged) {
        this.clock = clock;
        this.irq0 = irq0;
        this.engaged = engaged;
        reset();
    }

    public void reset() {
        for (PitChannel channel : channels) {
            channel.reset();
        }
        channels[2].gate = false;
        portB = 0;
    }

    /** Whole PIT ticks between virtual times {@code from} and {@code to}. */
    static long ticksBetween(long from, long to) {
        long nanos = to - from;
        return nanos / NANOS * HZ + (nanos % NANOS) * HZ / NANOS;
    }

    /** The virtual time of PIT tick {@code ticks} after {@code from} (the first nanosecond it has happened). */
    static long timeOfTick(long from, long ticks) {
        return from + ticks / HZ * NANOS + ((ticks % HZ) * NANOS + HZ - 1) / HZ;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        value &= 0xff;
        long now = clock.now();
        if (port == PORT_B) {
            boolean rising = (value & 1) != 0 && !channels[2].gate;
            portB = value & 0x0f;
            channels[2].gate = (value & 1) != 0;
            if (rising) {
                channels[2].loaded = now;
            }
            if (channels[2].running()) {
                engaged.run();
            }
            return;
        }
        if (port == CONTROL) {
            int select = value >> 6;
            if (select == 3) {
                return; // read-back: not emulated
            }
            PitChannel channel = channels[select];
            int access = (value >> 4) & 3;
            if (access == 0) {
                channel.latch(now);
            } else {
                channel.program(access, (value >> 1) & 7);
            }
            return;
        }
        PitChannel channel = channels[port - BASE];
        if (channel.writeCount(value, now) && port == BASE) {
            channel0Fired = 0;
        }
        if (channel.running()) {
            engaged.run();
        }
    }

    @Override
    public int read(Machine machine, int port, int size) {
        long now = clock.now();
        if (port == PORT_B) {
            // bit 4 toggles with each 15 us DRAM refresh; bit 5 is OUT2
            int refresh = (int) ((now / 15_085) & 1) << 4;
            return portB | refresh | (channels[2].out(now) ? 0x20 : 0);
        }
        if (port == CONTROL) {
            return 0xff; // the control word register is write-only
        }
        return channels[port - BASE].readCount(now);
    }

    /** How many IRQ0 periods of channel 0 have been signalled since its count was last written. */
    private long channel0Fired;

    @Override
    public long deadline() {
        PitChannel channel = channels[0];
        if (!channel.running()) {
            return NEVER;
        }
        if (channel.mode == 0) {
            return channel0Fired == 0 ? timeOfTick(channel.loaded, channel.reload()) : NEVER;
        }
        return timeOfTick(channel.loaded, (channel0Fired + 1) * channel.reload());
    }

    @Override
    public void advanceTo(long now) {
        for (long due = deadline(); due <= now; due = deadline()) {
            channel0Fired++;
            irq0.pulse();
        }
    }

    /** One counter: its mode, reload value, access state and when counting started. */
    private static final class PitChannel {
        int mode, access, reloadValue, latched = -1, writeLow = -1;
        boolean readHigh, gate = true, written;
        long loaded;

        void reset() {
            mode = 0;
            access = 3;
            reloadValue = 0;
            latched = writeLow = -1;
            readHigh = written = false;
            gate = true;
        }

        long reload() {
            return reloadValue == 0 ? 0x10000 : reloadValue;
        }

        boolean running() {
            return written && gate;
        }

        void program(int access, int mode) {
            this.access = access;
            this.mode = mode > 5 ? mode - 4 : mode; // 6 and 7 are aliases of 2 and 3
            written = false;
            writeLow = latched = -1;
            readHigh = false;
        }

        /** A byte of the count; true when the count is complete and counting (re)starts. */
        boolean writeCount(int value, long now) {
            switch (access) {
                case 1 -> reloadValue = value;
                case 2 -> reloadValue = value << 8;
                default -> {
                    if (writeLow < 0) {
                        writeLow = value;
                        return false;
                    }
                    reloadValue = writeLow | (value << 8);
                    writeLow = -1;
                }
            }
            written = true;
            loaded = now;
            return true;
        }

        void latch(long now) {
            if (latched < 0) {
                latched = count(now);
            }
        }

        int readCount(long now) {
            int value = latched >= 0 ? latched : count(now);
            int result;
            if (access == 1) {
                result = value & 0xff;
                latched = -1;
            } else if (access == 2) {
                result = (value >> 8) & 0xff;
                latched = -1;
            } else {
                result = readHigh ? (value >> 8) & 0xff : value & 0xff;
                if (readHigh) {
                    latched = -1;
                }
                readHigh = !readHigh;
            }
            return result;
        }

        /** The counting element now, as QEMU's pit_get_count computes it. */
        int count(long now) {
            if (!written) {
                return reloadValue;
            }
            long ticks = gate ? ticksBetween(loaded, now) : 0;
            long reload = reload();
            return (int) switch (mode) {
                case 2 -> reload - ticks % reload;
                case 3 -> (reload - (2 * ticks) % reload) & 0xfffe;
                default -> (reload - ticks) & 0xffff;
            } & 0xffff;
        }

        /** The OUT pin now. */
        boolean out(long now) {
            if (!written) {
                return mode != 0;
            }
            long ticks = gate ? ticksBetween(loaded, now) : 0;
            long reload = reload();
            return switch (mode) {
                case 2 -> ticks % reload != reload - 1;
                case 3 -> ticks % reload < (reload + 1) / 2;
                default -> ticks >= reload;
            };
        }
    }
}
