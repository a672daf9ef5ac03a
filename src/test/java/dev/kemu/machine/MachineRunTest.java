package dev.kemu.machine;

import dev.kemu.unicorn.UcError;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    // out 0x80, al ; hlt
    private static final byte[] OUT_THEN_HLT = {(byte) 0xE6, (byte) 0x80, (byte) 0xF4};

    @Test
    void run_whenADeviceThrowsAUnicornException_rethrowsItAsTheCause_notAStopString() {
        UnicornException thrown = new UnicornException(UcError.ARG, "Invalid argument", "uc_reg_write(reg=0x9999)");
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, OUT_THEN_HLT);
            machine.attach(0x80, (m, port, size, value) -> {
                throw thrown;
            });
            RuntimeException e = assertThrows(RuntimeException.class, () -> machine.run(0x1000, RunLimits.budget(100)));
            assertSame(thrown, rootCause(e), "the hook's own exception is kept");
            assertTrue(e.getMessage().contains("uc_reg_write(reg=0x9999)"), e.getMessage());
            String position = e.getSuppressed()[0].getMessage();
            assertTrue(position.startsWith("the guest was at RIP 0x1002 when host code in a hook failed (instructions "
                    + "counted in this run: "), position); // 0x1002: after the out
        }
    }

    @Test
    void run_whenADeviceStopsTheRunAndThenThrows_doesNotDropTheException() {
        UnicornException thrown = new UnicornException(UcError.ARG, "Invalid argument", "uc_reg_read(reg=0x9999)");
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, OUT_THEN_HLT);
            machine.attach(0x80, (m, port, size, value) -> {
                m.requestStop(StopReason.EXIT_PORT, 0, "exit");
                throw thrown;
            });
            RuntimeException e = assertThrows(RuntimeException.class, () -> machine.run(0x1000, RunLimits.budget(100)));
            assertSame(thrown, rootCause(e));
        }
    }

    @Test
    void run_whenEmulationFails_carriesTheEnginesErrorInTheResult() {
        try (Machine machine = new Machine(1 << 20)) {
            // mov rax, [0x40000000]: outside the 1 MiB of RAM
            machine.ram().write(0x1000, new byte[]{0x48, (byte) 0x8B, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40, (byte) 0xF4});
            RunResult result = machine.run(0x1000, RunLimits.budget(100));
            assertEquals(StopReason.EMULATION_ERROR, result.reason(), result.detail());
            UnicornException cause = (UnicornException) result.cause().orElseThrow();
            assertEquals(UcError.READ_UNMAPPED, cause.error());
            assertTrue(result.detail().contains("UC_ERR_READ_UNMAPPED"), result.detail());
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
