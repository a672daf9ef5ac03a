package dev.kemu.testing;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code snapshotAt = "port:0x501"}: the snapshot is taken just after the kernel's first write to that port. */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = UserKernel.IMAGE, snapshotAt = "port:0x501")
class UserKernelPortMarkerTest {
    @BeforeAll
    static void buildKernel() {
        UserKernel.build();
    }

    @Test
    void snapshotAtPortWrite_isAfterTheKernelWroteTheMarker(Guest guest) {
        GuestRun run = guest.run("mov rax, [rip + main_entered]");
        assertTrue(run.completed(), run.describe());
        assertEquals(1, run.rax(), "kernel_main sets main_entered just before its write to port 0x501");
    }

    @Test
    void snippetsStillRunFromTheMarkerSnapshot(Guest guest) {
        GuestRun run = guest.set(dev.kemu.unicorn.X86Reg.RDI, 7).set(dev.kemu.unicorn.X86Reg.RSI, 8).run("call kernel_add");
        assertEquals(15, run.rax(), run.describe());
    }
}
