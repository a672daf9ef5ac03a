package dev.kemu.machine.devices;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.UnclaimedPorts;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A port no device claims reads all ones at the access's width, swallows writes, and is listed with its counts. */
class UnclaimedPortTest {
    @Test
    void readsOfAnUnclaimedPort_areAllOnesAtEachWidth_andTheReportListsEveryPortMerged(@TempDir Path dir) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, """
                    mov dx, 0x3e8
                    xor eax, eax
                    in al, dx
                    mov r8, rax
                    xor eax, eax
                    in ax, dx
                    mov r9, rax
                    xor eax, eax
                    in eax, dx
                    mov r10, rax
                    mov dx, 0x3e9
                    out dx, al
                    mov al, 1
                    out 0x80, al
                    out 0x80, al
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
            assertEquals(0xffL, report.run().cpu().gpr(dev.kemu.unicorn.X86Reg.R8), "in al");
            assertEquals(0xffffL, report.run().cpu().gpr(dev.kemu.unicorn.X86Reg.R9), "in ax");
            assertEquals(0xffff_ffffL, report.run().cpu().gpr(dev.kemu.unicorn.X86Reg.R10), "in eax");
            List<UnclaimedPorts.Range> ports = report.devices().unclaimedPorts();
            assertEquals(List.of(new UnclaimedPorts.Range(0x80, 0x80, 0, 2), new UnclaimedPorts.Range(0x3e8, 0x3e9, 3, 1)),
                    ports.stream().filter(r -> r.first() == 0x80 || r.first() == 0x3e8).toList());
            assertEquals("0x3e8-0x3e9 (3 reads, 1 write)", ports.stream().filter(r -> r.first() == 0x3e8)
                    .findFirst().orElseThrow().toString());
        }
    }
}
