package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Machine.run's end address, with and without a hlt there, on a bare machine (paging off). */
class MachineRunTest {
    // lea rax, [rdi + 3] ; inc rax ; hlt
    private static final byte[] CODE = {0x48, (byte) 0x8D, 0x47, 0x03, 0x48, (byte) 0xFF, (byte) 0xC0, (byte) 0xF4};

    @Test
    void run_toAnEndAddressHoldingHlt_stopsThereWithoutCountingTheHlt() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CODE);
            machine.setRegister(X86Reg.RDI, 2);
            RunResult result = machine.run(0x1000, 0x1007, RunLimits.budget(1000));
            assertEquals(StopReason.REACHED_END, result.reason(), result.detail());
            assertEquals(0x1007, result.cpu().rip());
            assertEquals(6, result.cpu().rax());
            assertEquals(2, result.instructions());
        }
    }

    @Test
    void run_toAnEndAddressWithoutHlt_stopsThereToo() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CODE);
            machine.setRegister(X86Reg.RDI, 2);
            RunResult result = machine.run(0x1000, 0x1004, RunLimits.budget(1000));
            assertEquals(StopReason.REACHED_END, result.reason(), result.detail());
            assertEquals(0x1004, result.cpu().rip());
            assertEquals(5, result.cpu().rax());
            assertEquals(1, result.instructions());
        }
    }

    @Test
    void run_withoutEndAddress_stopsAtHltAsHalted() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CODE);
            RunResult result = machine.run(0x1000, RunLimits.UNCOUNTED);
            assertEquals(StopReason.HALTED, result.reason());
            assertEquals(-1, result.instructions());
        }
    }
}
