package dev.kemu.machine.smp;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CPUID from guest code on every CPU agrees with --cpus: APIC IDs, logical count, HTT, leaf 0xB, no x2APIC. */
class CpuIdentityTest {
    /** Each CPU stores leaf 1 EBX, ECX, EDX and leaf 0xB subleaf 0 and 1 EAX/EBX/ECX/EDX at 0xb000 + 0x40 * APIC ID. */
    private static final String RECORD_CPUID = """
                mov eax, 1
                cpuid
                mov esi, ebx
                shr esi, 24
                shl esi, 6
                mov [0xb000 + rsi], ebx
                mov [0xb004 + rsi], ecx
                mov [0xb008 + rsi], edx
                mov eax, 0xb
                xor ecx, ecx
                cpuid
                mov [0xb010 + rsi], eax
                mov [0xb014 + rsi], ebx
                mov [0xb018 + rsi], ecx
                mov [0xb01c + rsi], edx
                mov eax, 0xb
                mov ecx, 1
                cpuid
                mov [0xb020 + rsi], eax
                mov [0xb024 + rsi], ebx
                mov [0xb028 + rsi], ecx
                mov [0xb02c + rsi], edx
            """;

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 4})
    void everyCpu_readsItsOwnApicId_andTheCpuCount_fromCpuid(int count) {
        try (SmpGuest guest = new SmpGuest(count)) {
            guest.loadAp(RECORD_CPUID + "cli\nhlt\n");
            guest.loadBsp(SmpGuest.startAps(count) + RECORD_CPUID + "cli\nhlt\n");
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            for (int apic = 0; apic < count; apic++) {
                long at = 0xb000 + 0x40L * apic;
                int ebx = guest.bsp.ram().read32(at), ecx = guest.bsp.ram().read32(at + 4), edx = guest.bsp.ram().read32(at + 8);
                String cpu = "cpu" + apic;
                assertEquals(apic, ebx >>> 24, cpu + " initial APIC ID");
                assertEquals(count > 1 ? count : 0, (ebx >>> 16) & 0xff, cpu + " logical processors (QEMU leaves 0 for one)");
                assertEquals(count > 1, (edx & CpuIdentity.EDX_HTT) != 0, cpu + " HTT");
                assertEquals(0, ecx & CpuIdentity.ECX_X2APIC, cpu + " advertises no x2APIC");
                assertEquals(0x100, guest.bsp.ram().read32(at + 0x18) & 0xff00, cpu + " leaf 0xB subleaf 0 is the SMT level");
                assertEquals(1, guest.bsp.ram().read32(at + 0x14), cpu + " one thread per core");
                assertEquals(apic, guest.bsp.ram().read32(at + 0x1c), cpu + " x2APIC ID");
                assertEquals(CpuIdentity.bitsFor(count), guest.bsp.ram().read32(at + 0x20), cpu + " core level shift");
                assertEquals(count, guest.bsp.ram().read32(at + 0x24), cpu + " processors in the package");
                assertEquals(0x201, guest.bsp.ram().read32(at + 0x28) & 0xffff, cpu + " core level, subleaf 1");
            }
        }
    }

    @Test
    void theModelsOwnAnswers_areKeptForBitsKemuDoesNotSet() {
        NativeCpuid.Result model = NativeCpuid.of(1, 0);
        NativeCpuid.Result ours = new CpuIdentity(0, 1).answer(1, 0, 0);
        assertEquals(model.eax(), ours.eax(), "family, model, stepping");
        assertEquals(model.edx() & ~CpuIdentity.EDX_HTT, ours.edx());
        assertEquals(model.ecx() & ~CpuIdentity.ECX_X2APIC & ~CpuIdentity.ECX_OSXSAVE, ours.ecx());
        assertTrue(NativeCpuid.of(0, 0).eax() >= 0xb, "Unicorn's default model (max leaf 0x" + Integer.toHexString(NativeCpuid.of(0, 0).eax())
                + ") has leaf 0xB");
    }

    @Test
    void bitsFor_isTheCeilingOfLog2() {
        assertEquals(0, CpuIdentity.bitsFor(1));
        assertEquals(1, CpuIdentity.bitsFor(2));
        assertEquals(2, CpuIdentity.bitsFor(3));
        assertEquals(2, CpuIdentity.bitsFor(4));
        assertEquals(8, CpuIdentity.bitsFor(255));
    }
}
