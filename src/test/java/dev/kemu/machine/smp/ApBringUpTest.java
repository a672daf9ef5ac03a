package dev.kemu.machine.smp;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** INIT-SIPI-SIPI through the router: each AP walks from real mode to long mode on the BSP's CR3 and counts itself. */
class ApBringUpTest {
    private static final String AP_COUNTS_ITSELF = """
                mov eax, 1
                lock xadd [0x8ff8], eax
                mov eax, 1
                cpuid
                shr ebx, 24
                mov [0x9000 + rbx * 8], rbx
                mov rax, cr3
                mov [0x9100 + rbx * 8], rax
                cli
                hlt
            """;

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 4})
    void everyAp_reachesLongModeWithTheBspsCr3_andIncrementsTheSharedCounterOnce(int count) {
        try (SmpGuest guest = new SmpGuest(count)) {
            guest.loadAp(AP_COUNTS_ITSELF);
            guest.loadBsp(SmpGuest.startAps(count) + """
                    3:  mov eax, [0x8ff8]
                        cmp eax, %d
                        jne 3b
                        mov eax, 1
                        lock xadd [0x8ff8], eax
                        cli
                        hlt
                    """.formatted(count - 1));
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(count, guest.bsp.ram().read32(SmpGuest.COUNTER), "each CPU added 1: " + result);
            for (int apic = 1; apic < count; apic++) {
                assertEquals(apic, guest.bsp.ram().read64(SmpGuest.PER_CPU + 8L * apic), "cpuid's APIC ID on cpu" + apic);
                assertEquals(SmpGuest.PML4, guest.bsp.ram().read64(SmpGuest.PER_CPU + 0x100 + 8L * apic), "CR3 on cpu" + apic);
                assertEquals(CpuState.HALTED, guest.cpus.state(apic));
            }
        }
    }
}
