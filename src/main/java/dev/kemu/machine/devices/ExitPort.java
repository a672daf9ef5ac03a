package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.StopReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port 0xF4 exit device, at the port QEMU's isa-debug-exit is usually given
 * ({@code -device isa-debug-exit,iobase=0xf4,iosize=0x04}): writing a value ends the run and the value becomes
 * {@link dev.kemu.machine.RunResult#exitCode()}. The process exit status QEMU derives from it,
 * {@code (value << 1) | 1}, is the command line's business (README, "Exit status"), not the machine's.
 */
public final class ExitPort implements PortDevice {
    public static final int PORT = 0xF4;
    private static final Logger log = LoggerFactory.getLogger(ExitPort.class);

    @Override
    public void write(Machine machine, int port, int size, int value) {
        log.trace("exit port: {}-byte write of 0x{}", size, Integer.toHexString(value));
        machine.requestStop(StopReason.EXIT_PORT, value, "guest wrote 0x" + Integer.toHexString(value) + " to exit port");
    }
}
