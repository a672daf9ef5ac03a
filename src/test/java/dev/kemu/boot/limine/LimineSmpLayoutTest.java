package dev.kemu.boot.limine;

import dev.kemu.machine.GuestRam;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SMP response's bytes as PROTOCOL.md lays them out, written into plain guest memory without a boot. */
class LimineSmpLayoutTest {
    private static final long HHDM = LimineKernel.HHDM_OFFSET, START = 0x10000, STACK = 0x4000;

    @Test
    void answer_writesTheResponseTheInfoStructsAndOneSlotPerAp() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            LimineSmp.Answer answer = LimineSmp.answer(ram, new ReclaimableArena(ram, START, 1 << 20, HHDM), 3,
                    STACK, 0);
            long response = answer.response().value();
            assertEquals(0, ram.read64(response), "revision");
            assertEquals(0, ram.read32(response + 8), "flags: x2APIC not enabled");
            assertEquals(0, ram.read32(response + 12), "bsp_lapic_id");
            assertEquals(3, ram.read64(response + 16), "cpu_count");
            long cpus = ram.read64(response + 24) - HHDM;
            assertEquals(2, answer.apCount());
            for (int cpu = 0; cpu < 3; cpu++) {
                long info = ram.read64(cpus + 8L * cpu) - HHDM;
                assertEquals(cpu, ram.read32(info), "processor_id");
                assertEquals(cpu, ram.read32(info + 4), "lapic_id");
                assertEquals(0, ram.read64(info + 16), "goto_address");
                assertEquals(0, ram.read64(info + 24), "extra_argument");
                if (cpu > 0) {
                    long slot = answer.apTable().value() + 24L * (cpu - 1);
                    assertEquals(cpu, ram.read64(slot));
                    assertEquals(info + HHDM, ram.read64(slot + 8));
                    long top = ram.read64(slot + 16) - HHDM;
                    assertEquals(0, top % 4096);
                    assertTrue(top - STACK >= START && top <= 1 << 20, "the stack lies in the arena");
                }
            }
            assertEquals(List.of(), answer.notes());
        }
    }

    @Test
    void answer_toARequestForX2apic_keepsTheFlagClearWithANote() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            LimineSmp.Answer answer = LimineSmp.answer(ram, new ReclaimableArena(ram, START, 1 << 20, HHDM), 1,
                    STACK, LimineSmp.FLAG_X2APIC);
            assertEquals(0, ram.read32(answer.response().value() + 8));
            assertEquals(0, answer.apCount());
            assertEquals(List.of("Limine: the SMP request asks for x2APIC; kemu's local APICs are xAPIC only, so the "
                    + "response's x2APIC flag is clear"), answer.notes());
        }
    }
}
