package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.StopReason;

/**
 * Port 0xF4 exit device, compatible with QEMU's isa-debug-exit (iobase=0xf4): writing a
 * value ends the run with that value as exit code (QEMU itself exits with value*2+1).
 */
public final class ExitPort implements PortDevice {
    public static final int PORT = 0xF4;

    @Override
    public void write(Machine machine, int port, int size, int value) {
        machine.requestStop(StopReason.EXIT_PORT, value, "guest wrote 0x" + Integer.toHexString(value) + " to exit port");
    }
}
