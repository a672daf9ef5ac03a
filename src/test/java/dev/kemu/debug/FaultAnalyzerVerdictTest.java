package dev.kemu.debug;

import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fault report's reason comes from the walker's verdict for the faulting access under the CPU's controls. */
class FaultAnalyzerVerdictTest {
    /** mov rax, qword ptr [rbx]; hlt */
    private static final byte[] LOAD_RBX = {0x48, (byte) 0x8B, 0x03, (byte) 0xF4};

    @Test
    void nxInAPdEntryWhileNxeIsClear_isAReservedBitNamedInThatPdEntry() {
        try (FaultingGuest guest = new FaultingGuest(false)) {
            long pt = FaultingGuest.TEST_TABLES;
            // V0x200000: PD entry 1 -> a PT whose entry 0 is fine; the PD entry has NX, reserved while NXE is clear.
            guest.ram().write64(FaultingGuest.PD + 8, pt | FaultingGuest.RW | PageTableEntry.NO_EXECUTE);
            guest.ram().write64(pt, 0x30_0000L | FaultingGuest.RW);
            guest.setRegister(X86Reg.RBX, 0x20_0000L);

            FaultReport fault = guest.run(LOAD_RBX);

            assertEquals(ExceptionVector.PF, fault.vector());
            assertEquals(PageFaultCode.PRESENT | PageFaultCode.RESERVED, fault.errorCode());
            assertTrue(fault.reason().startsWith("NX bit set while EFER.NXE is clear (then bit 63 is reserved) in the PD "
                    + "entry 1 (at P0x3008 = "), fault.reason());
            assertEquals(3, fault.walk().levels().size(), "the walk stops at the PD entry: " + fault.walk().text());
        }
    }

    @Test
    void theSameNxBitWithNxeSet_isNoFaultForARead_butAFetchNamesThePdEntry() {
        try (FaultingGuest guest = new FaultingGuest(true)) {
            long pt = FaultingGuest.TEST_TABLES;
            guest.ram().write64(FaultingGuest.PD + 8, pt | FaultingGuest.RW | PageTableEntry.NO_EXECUTE);
            guest.ram().write64(pt, 0x30_0000L | FaultingGuest.RW);
            guest.setRegister(X86Reg.RBX, 0x20_0000L);

            FaultReport fault = guest.run(new byte[]{(byte) 0xFF, (byte) 0xE3}); // jmp rbx

            assertEquals(PageFaultCode.PRESENT | PageFaultCode.FETCH, fault.errorCode());
            assertEquals("instruction fetch", fault.access());
            assertTrue(fault.reason().startsWith("instruction fetch from a no-execute page: NX set in the PD entry 1 "),
                    fault.reason());
        }
    }

    @Test
    void errorBits_nameEveryPageFaultCodeBit() {
        for (int code = 0; code < 32; code++) {
            List<String> bits = FaultAnalyzer.errorBits(ExceptionVector.PF, code);
            assertEquals((code & PageFaultCode.PRESENT) != 0, bits.contains("present (protection violation)"), bits::toString);
            assertEquals((code & PageFaultCode.PRESENT) == 0, bits.contains("not present"), bits::toString);
            assertEquals((code & PageFaultCode.WRITE) != 0, bits.contains("write"), bits::toString);
            assertEquals((code & PageFaultCode.WRITE) == 0, bits.contains("read"), bits::toString);
            assertEquals((code & PageFaultCode.USER) != 0, bits.contains("user"), bits::toString);
            assertEquals((code & PageFaultCode.RESERVED) != 0, bits.contains("reserved bit"), bits::toString);
            assertEquals((code & PageFaultCode.FETCH) != 0, bits.contains("instruction fetch"), bits::toString);
        }
    }

    @Test
    void accessOf_readsTheKindAndModeFromThePageFaultCodeBits() {
        assertEquals("supervisor read", FaultAnalyzer.accessOf(0, 0x1000, 0x2000).toString());
        assertEquals("supervisor write", FaultAnalyzer.accessOf(PageFaultCode.WRITE, 0x1000, 0x2000).toString());
        assertEquals("user read", FaultAnalyzer.accessOf(PageFaultCode.USER, 0x1000, 0x2000).toString());
        assertEquals("user instruction fetch",
                FaultAnalyzer.accessOf(PageFaultCode.USER | PageFaultCode.FETCH, 0x1000, 0x2000).toString());
        assertEquals("supervisor instruction fetch", FaultAnalyzer.accessOf(0, 0x2000, 0x2000).toString(),
                "without NXE and SMEP a fetch has no I/D bit: CR2 = RIP tells");
    }
}
