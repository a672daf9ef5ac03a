package dev.kemu.machine.interrupts;

import dev.kemu.machine.StopReason;
import dev.kemu.machine.devices.Pit8254;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A calibration loop as kernels write it: PIT channel 2 gated by port 0x61, polling OUT2 (bit 5); the latch. */
class PitChannel2Test {
    @TempDir
    Path dir;

    @Test
    void channel2OneShot_out2RisesAfterItsCount_inVirtualTime() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, """
                    in al, 0x61
                    and al, 0xfd                           # speaker off
                    or al, 0x01                            # gate channel 2 on
                    out 0x61, al
                    mov al, 0xb0                           # channel 2, lobyte/hibyte, mode 0
                    out 0x43, al
                    mov ax, 1193                           # 1 ms
                    out 0x42, al
                    mov al, ah
                    out 0x42, al
                    xor r12, r12
                1:  inc r12
                    in al, 0x61
                    test al, 0x20
                    jz 1b
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        long oneMs = 1193 * 1_000_000_000L / Pit8254.HZ;
        long loop = 4; // inc, in, test, jz: 4 ns per iteration at 1 instruction per ns
        assertTrue(Math.abs(run.gpr(12) - oneMs / loop) < 10, run.gpr(12) + " iterations; 1 ms is " + oneMs / loop);
    }

    @Test
    void latchCommand_freezesTheCountUntilBothBytesAreRead() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.pitChannel0(2, 50000) + """
                    mov ecx, 1000
                1:  loop 1b
                    mov al, 0x00                           # latch channel 0
                    out 0x43, al
                    mov ecx, 100000
                2:  loop 2b                                # time passes: the latched value does not move
                    in al, 0x40
                    mov r12b, al
                    in al, 0x40
                    mov r13b, al
                    in al, 0x40                            # unlatched now: the live count
                    mov r14b, al
                    in al, 0x40
                    mov r15b, al
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """);
        long latched = run.gpr(12) & 0xff | (run.gpr(13) & 0xff) << 8;
        long live = run.gpr(14) & 0xff | (run.gpr(15) & 0xff) << 8;
        // ~1000 instructions after loading: about 1 PIT tick per 838 ns
        assertTrue(latched > 50000 - 5 && latched < 50000, "latched " + latched);
        long expectedLive = 50000 - (101_000 * Pit8254.HZ / 1_000_000_000L);
        assertTrue(Math.abs(live - expectedLive) < 10, "live " + live + ", expected about " + expectedLive);
    }
}
