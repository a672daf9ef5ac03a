package dev.kemu.debug;

import dev.kemu.capstone.Capstone;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The address {@link EffectiveAddress} computes from Capstone's operand detail equals the one the
 * CPU computed: CR2 of a real #PF, for every addressing form. Only the first 2 MiB are mapped
 * ({@link FaultingGuest}), so each access below faults at the address it computes.
 */
class EffectiveAddressTest {
    @BeforeAll
    static void operandsDecoded() {
        assumeTrue(Capstone.operandDetailSupported(), "operand decoding needs libcapstone 4");
    }

    /** Runs the instruction {@code hex} after {@code setup} and checks both addresses equal {@code expected}. */
    private static void assertComputedLikeTheCpu(long expected, String hex, Consumer<Machine> setup) {
        try (FaultingGuest guest = new FaultingGuest(true)) {
            FaultReport fault = guest.run(HexFormat.ofDelimiter(" ").parseHex(hex + " f4"), setup);
            assertEquals(ExceptionVector.PF, fault.vector(), fault.text());
            assertEquals(expected, guest.cr2(), "the CPU's address, " + fault.disassembly());
            assertEquals(OptionalLong.of(guest.cr2()), guest.effectiveAddress(), fault.disassembly().toString());
        }
    }

    @Test
    void ripRelative_countsFromTheEndOfTheInstruction() {
        // mov rax, qword ptr [rip + 0x7ff00000], 7 bytes at 0x10000
        assertComputedLikeTheCpu(0x10007L + 0x7ff00000L, "48 8b 05 00 00 f0 7f", m -> {});
    }

    @Test
    void basePlusScaledIndexPlusNegativeDisplacement() {
        // mov rax, qword ptr [rbx + rcx*4 - 0x20]
        assertComputedLikeTheCpu(0x4000_0000L + 0x400 - 0x20, "48 8b 44 8b e0", m -> {
            m.setRegister(X86Reg.RBX, 0x4000_0000L);
            m.setRegister(X86Reg.RCX, 0x100);
        });
    }

    @Test
    void fsOverride_addsTheFsBase() {
        // mov rax, qword ptr fs:[rbx + 8]
        assertComputedLikeTheCpu(0x5000_0000_1008L, "64 48 8b 43 08", m -> {
            m.setRegister(X86Reg.FS_BASE, 0x5000_0000_0000L);
            m.setRegister(X86Reg.RBX, 0x1000);
        });
    }

    @Test
    void gsOverrideWithIndexAndNoBase() {
        // mov rax, qword ptr gs:[rcx*2 + 0x100]
        assertComputedLikeTheCpu(0x6000_0000_1100L, "65 48 8b 04 4d 00 01 00 00", m -> {
            m.setRegister(X86Reg.GS_BASE, 0x6000_0000_0000L);
            m.setRegister(X86Reg.RCX, 0x800);
        });
    }

    @Test
    void absoluteAddress_withNeitherBaseNorIndex() {
        // mov eax, dword ptr [0x7fe00000]
        assertComputedLikeTheCpu(0x7fe0_0000L, "8b 04 25 00 00 e0 7f", m -> {});
    }

    @Test
    void storeDestination_withExtendedRegisters() {
        // mov qword ptr [r12 + r13*2 + 0x7f], rax
        assertComputedLikeTheCpu(0x7000_0000_0000L + 0x80 + 0x7f, "4b 89 44 6c 7f", m -> {
            m.setRegister(X86Reg.R12, 0x7000_0000_0000L);
            m.setRegister(X86Reg.R13, 0x40);
        });
    }

    @Test
    void addressSizePrefix_uses32BitRegistersAndTruncates() {
        // mov eax, dword ptr [ebx + ecx*4 + 4]: the upper half of RBX is not part of the address
        assertComputedLikeTheCpu(0x8000_0014L, "67 8b 44 8b 04", m -> {
            m.setRegister(X86Reg.RBX, 0xffff_ffff_8000_0000L);
            m.setRegister(X86Reg.RCX, 4);
        });
    }

    @Test
    void generalProtectionReport_namesTheNonCanonicalLinearAddress_fsBaseIncluded() {
        try (FaultingGuest guest = new FaultingGuest(true)) {
            // mov rax, qword ptr fs:[rbx + 8] with a canonical FS base and offset whose sum is not canonical
            FaultReport fault = guest.run(HexFormat.ofDelimiter(" ").parseHex("64 48 8b 43 08 f4"), m -> {
                m.setRegister(X86Reg.FS_BASE, 0x7fff_ffff_f000L);
                m.setRegister(X86Reg.RBX, 0x1000);
            });
            assertEquals(ExceptionVector.GP, fault.vector(), fault.text());
            assertEquals("0x800000000008", fault.address());
            assertTrue(fault.reason().startsWith("non-canonical address 0x800000000008"), fault.reason());
        }
    }

    @Test
    void anInstructionWithoutAMemoryOperand_hasNoAddress() {
        try (FaultingGuest guest = new FaultingGuest(true)) {
            // ud2: no operand at all
            FaultReport fault = guest.run(new byte[]{0x0f, 0x0b});
            assertEquals(ExceptionVector.UD, fault.vector(), fault.text());
            assertTrue(guest.effectiveAddress().isEmpty(), guest.effectiveAddress().toString());
        }
    }
}
