package dev.kemu.machine.interrupts;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.testutil.TestKernels;

import java.nio.file.Path;

/**
 * kmain bodies that program the PC's interrupt hardware from guest code, and a boot that keeps what the
 * interrupt hardware saw (virtual time, interrupts taken) after the machine is closed.
 */
final class InterruptGuest {
    /** PIC remapped to 0x20 (master) and 0x28 (slave), then IMR master = {@code %1$s}, slave = {@code %2$s}. */
    static String remapPic(int masterMask, int slaveMask) {
        return """
                    mov al, 0x11            # ICW1: edge, cascade, ICW4 follows
                    out 0x20, al
                    out 0xa0, al
                    mov al, 0x20            # ICW2: vector bases
                    out 0x21, al
                    mov al, 0x28
                    out 0xa1, al
                    mov al, 0x04            # ICW3: slave on IR2
                    out 0x21, al
                    mov al, 0x02
                    out 0xa1, al
                    mov al, 0x01            # ICW4: 8086 mode
                    out 0x21, al
                    out 0xa1, al
                    mov al, %d
                    out 0x21, al
                    mov al, %d
                    out 0xa1, al
                """.formatted(masterMask, slaveMask);
    }

    /** PIT channel 0 in {@code mode} (2 or 3), lobyte/hibyte, with {@code count}. */
    static String pitChannel0(int mode, int count) {
        return """
                    mov al, %d
                    out 0x43, al
                    mov ax, %d
                    out 0x40, al
                    mov al, ah
                    out 0x40, al
                """.formatted(0x30 | (mode << 1), count);
    }

    /**
     * Maps the I/O APIC's and the local APIC's 2 MiB regions (uncached) into the last GiB of the higher
     * half through a page directory of the test's own (kemu's memory services map RAM only): RBP =
     * the I/O APIC at V0xffffffffc0000000, RBX = the local APIC at V0xffffffffc0200000. Uses RAX, RCX, RDX, RSI.
     */
    static final String MAP_APICS = """
                mov rax, cr3
                movabs rcx, 0xffffffff80000000          # the higher half maps physical 0..1 GiB here
                and rax, -4096
                mov rdx, [rax + rcx + 511 * 8]          # PML4[511] -> PDPT
                movabs rsi, 0x000ffffffffff000
                and rdx, rsi
                lea rsi, [rip + apic_pd]
                sub rsi, rcx
                or rsi, 3
                mov [rdx + rcx + 511 * 8], rsi          # PDPT[511] -> apic_pd
                mov eax, 0xfec00000 | 0x93              # 2 MiB, present, writable, cache disabled
                mov [rip + apic_pd], rax
                mov eax, 0xfee00000 | 0x93
                mov [rip + apic_pd + 8], rax
                mov rax, cr3
                mov cr3, rax
                movabs rbp, 0xffffffffc0000000
                movabs rbx, 0xffffffffc0200000
                jmp 9f
                .section .bss
                .align 4096
            apic_pd: .skip 4096
                .section .text
            9:
            """;

    /** SVR: software-enabled, spurious vector 0xff; timer divide by 1. */
    static final String ENABLE_APIC = """
                mov dword ptr [rbx + 0xf0], 0x1ff
                mov dword ptr [rbx + 0x3e0], 0xb
            """;

    /** The end of kmain: interrupts off, exit code 0 through the exit port. */
    static final String EXIT = """
                cli
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    /** What one boot came to, with the interrupt hardware's own figures. */
    record Outcome(BootReport report, long virtualNanos, long interrupts, String serial) {
        long gpr(int index) {
            return report.run().cpu().gprs()[index];
        }
    }

    static Outcome boot(Path dir, String kmain) {
        return boot(dir, kmain, BootOptions.defaults());
    }

    static Outcome boot(Path dir, String kmain, BootOptions options) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, kmain), options)) {
            BootReport report = boot.run();
            PcInterrupts interrupts = boot.machine().interrupts().orElseThrow();
            return new Outcome(report, interrupts.clock().now(), interrupts.delivered(), report.serial());
        }
    }

    private InterruptGuest() {}
}
