package dev.kemu.boot;

import dev.kemu.machine.UnclaimedPorts;

import java.util.List;

/**
 * What the guest did with the PC devices of a boot: the bytes it sent out of COM1 and COM2
 * (one char per byte) and every port it used that no device claimed, adjacent ports merged.
 */
public record DeviceActivity(String com1, String com2, List<UnclaimedPorts.Range> unclaimedPorts) {
    public DeviceActivity {
        unclaimedPorts = List.copyOf(unclaimedPorts);
    }
}
