package dev.kemu.machine.smp;

import dev.kemu.machine.Machine;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.devices.LocalApic;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fixed IPIs between CPUs from guest code, through the local APICs' ICR: cpu0 sends vector 0x40 to cpu1, which
 * sleeps in {@code hlt} with IF set; the IPI wakes it, its handler runs and EOIs, and it sleeps again. The
 * second IPI is taken too, which it would not be had the EOI not cleared the vector's ISR bit.
 */
class FixedIpiTest {
    private static final int VECTOR = 0x40;
    private static final long IDT = 0x40000, IDTR = 0x41000, HANDLER = 0x21000;
    private static final long HANDLED = 0x9008, WOKEN = 0x9010, READY = 0x9018;

    private static final String CPU1_SLEEPS_WITH_IF_SET = """
                lidt [0x41000]
                mov rax, 0xfee000f0
                mov dword ptr [rax], 0x1ff
                mov dword ptr [0x9018], 1
            1:  sti
                hlt
                cli
                lock inc dword ptr [0x9010]
                jmp 1b
            """;

    private static final String CPU1_HANDLER = """
            .code64
                lock inc dword ptr [0x9008]
                mov rax, 0xfee000b0
                mov dword ptr [rax], 0
                iretq
            """;

    /** After cpu1 is ready, twice: let cpu1 reach its hlt, send the IPI (ICR high then low), wait for it to wake. */
    private static final String CPU0_SENDS_TWO_IPIS = SmpGuest.startAps(2) + """
                mov rax, 0xfee000f0
                mov dword ptr [rax], 0x1ff
            3:  cmp dword ptr [0x9018], 1
                jne 3b
                mov r8d, 1
            5:  mov ecx, 100000
            4:  loop 4b
                mov rax, 0xfee00310
                mov dword ptr [rax], 0x01000000
                mov rax, 0xfee00300
                mov dword ptr [rax], 0x4040
            6:  cmp dword ptr [0x9010], r8d
                jne 6b
                inc r8d
                cmp r8d, 3
                jne 5b
                cli
                hlt
            """;

    @Test
    void cpu0sFixedIpi_wakesCpu1HaltedWithIfSet_itsHandlerRunsAndEois_twice() {
        try (SmpGuest guest = new SmpGuest(2, CpuSet.QUANTUM, true)) {
            writeGate(guest, VECTOR, HANDLER);
            guest.bsp.ram().write(HANDLER, FlatBinary.assemble(CPU1_HANDLER, HANDLER));
            guest.loadAp(CPU1_SLEEPS_WITH_IF_SET);
            guest.loadBsp(CPU0_SENDS_TWO_IPIS);

            SmpRunResult result = guest.run();

            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(1, guest.bsp.ram().read32(READY), "cpu1 came up");
            assertEquals(2, guest.bsp.ram().read32(HANDLED), "cpu1's handler ran once per IPI");
            assertEquals(2, guest.bsp.ram().read32(WOKEN), "cpu1's hlt returned once per IPI");
            assertEquals(CpuState.HALTED, guest.cpus.state(1), "cpu1 sleeps again after the second");
            Machine cpu1 = guest.cpus.machine(1);
            LocalApic apic = cpu1.interrupts().orElseThrow().localApic();
            assertEquals(0, apic.read(cpu1, 0x100 + 0x10 * (VECTOR / 32), 4) & (1L << (VECTOR % 32)),
                    "the EOI cleared vector 0x40 in cpu1's ISR");
            assertEquals(0, guest.cpus.machine(0).interrupts().orElseThrow().localApic()
                    .read(guest.bsp, 0x100 + 0x10 * (VECTOR / 32), 4), "cpu0 took no IPI itself");
        }
    }

    /** A 64-bit interrupt gate (type 0xe, DPL 0, present) to {@code handler} in the trampoline's 64-bit code segment. */
    private static void writeGate(SmpGuest guest, int vector, long handler) {
        long gate = IDT + 16L * vector;
        guest.bsp.ram().write64(gate, (handler & 0xffff) | 0x18L << 16 | 0x8e00L << 32 | ((handler >>> 16) & 0xffff) << 48);
        guest.bsp.ram().write64(gate + 8, handler >>> 32);
        guest.bsp.ram().write16(IDTR, 16 * 256 - 1);
        guest.bsp.ram().write64(IDTR + 2, IDT);
    }
}
