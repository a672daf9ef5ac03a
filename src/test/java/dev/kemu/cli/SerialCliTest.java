package dev.kemu.cli;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kemu boot --serial} and {@code --serial-input}, the unclaimed-port line and the unmapped-memory stop. */
class SerialCliTest {
    /** Sends "> ", then echoes every received byte until none is waiting; touches unclaimed port 0x80. */
    private static final String ECHO = """
                mov dx, 0x3f8
                mov al, '>'
                out dx, al
                mov al, ' '
                out dx, al
            receive:
                mov dx, 0x3fd
                in al, dx
                test al, 0x01
                jz empty
                mov dx, 0x3f8
                in al, dx
                out dx, al
                jmp receive
            empty:
                out 0x80, al
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @TempDir
    Path dir;

    private String echoKernel() {
        return TestKernels.withKmain(dir, ECHO).kernel().toString();
    }

    @Test
    void serialStdout_showsCom1AfterTheDebugConsole_withTheInputEchoed() throws IOException {
        Path input = Files.writeString(dir.resolve("input.txt"), "hello\n");
        CliRun run = CliRun.of("boot", "--kernel", echoKernel(), "--serial-input", input.toString());
        assertEquals(1, run.exit(), run.all());
        assertTrue(run.out().contains("--- debug console ---\n--- serial COM1 ---\n> hello\n--- summary ---\n"),
                run.all());
        assertTrue(run.out().contains("\nunclaimed ports (read as all ones, writes dropped): 0x80 (1 write)\n"),
                run.all());
    }

    @Test
    void serialFile_getsCom1sBytes_andStdoutHasNoSerialSection() throws IOException {
        Path output = dir.resolve("com1.txt");
        CliRun run = CliRun.of("boot", "--kernel", echoKernel(), "--serial", output.toString());
        assertEquals(1, run.exit(), run.all());
        assertEquals("> ", Files.readString(output));
        assertFalse(run.out().contains("--- serial COM1 ---"), run.all());
    }

    @Test
    void serialNone_showsNothing() {
        CliRun run = CliRun.of("boot", "--kernel", echoKernel(), "--serial", "none");
        assertEquals(1, run.exit(), run.all());
        assertFalse(run.out().contains("--- serial"), run.all());
    }

    @Test
    void serialInputThatIsNotThere_isAUsageErrorNamingIt() {
        CliRun run = CliRun.of("boot", "--serial-input", dir.resolve("missing.txt").toString());
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("--serial-input " + dir.resolve("missing.txt") + ": no readable file there; "
                + "give a file to send to COM1, or - for standard input"), run.all());
    }

    @Test
    void hpetReadInKmain_stopsNamingTheRegisterAndTheSymbol_withoutUcEmuStart() {
        // As a kernel does before it uses its HPET (kemu has none): map 0xfed00000 (here in a 2 MiB page at the same address).
        String kernel = TestKernels.withKmain(dir, """
                    mov rcx, 0xffffffff80000000
                    mov rdx, cr3
                    add rdx, rcx
                    lea rax, [rip + apic_pdpt]
                    sub rax, rcx
                    or rax, 3
                    mov qword ptr [rdx], rax
                    lea rax, [rip + apic_pd]
                    sub rax, rcx
                    or rax, 3
                    mov qword ptr [rip + apic_pdpt + 3 * 8], rax
                    mov eax, 0xfec00083
                    mov qword ptr [rip + apic_pd + 0x1f6 * 8], rax
                    mov rax, cr3
                    mov cr3, rax
                    mov eax, 0xfed000f0
                hpet_read:
                    mov eax, dword ptr [rax]
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                .section .data
                .balign 4096
                apic_pdpt: .fill 512, 8, 0
                apic_pd: .fill 512, 8, 0
                """).kernel().toString();
        CliRun run = CliRun.of("boot", "--kernel", kernel);
        assertEquals(ExitStatus.BOOT_FAILED, run.exit(), run.all());
        assertTrue(run.err().contains("emulation error in stage 'kmain' at hpet_read: 4-byte read of P0xfed000f0 "
                + "(HPET main counter), which kemu does not emulate"), run.all());
        assertFalse(run.all().contains("uc_emu_start"), run.all());
    }
}
