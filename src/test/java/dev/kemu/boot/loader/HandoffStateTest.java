package dev.kemu.boot.loader;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CPU at the Multiboot handoff (specification 0.6.96, section 3.2), on a symbol-less i386 ELF32 kernel built
 * here: read by the host at the kernel's first instruction, and reported by the kernel itself (EAX, the flags that
 * must be clear, CR0, CR4, EFER, every segment's limit and access rights through {@code lsl}/{@code lar}, the info
 * block, A20) on the debug console, which must read the same under QEMU's own Multiboot loader.
 */
class HandoffStateTest {
    /** The self-reporting kernel; the host stops at {@code _start}, its first instruction. */
    static final String KERNEL = ".intel_syntax noprefix\n" + LoaderKernels.HEADER + LoaderKernels.REPORTING + """

.macro SEG reg
    .pushsection .rodata
1:  .asciz "\\reg\\().limit="
2:  .asciz "\\reg\\().ar="
    .popsection
    mov bx, \\reg
    movzx ebx, bx
    lsl eax, ebx
    mov ecx, offset 1b
    call field
    lar eax, ebx
    and eax, 0x00f0fe00         # access rights without the accessed bit and the limit bits
    mov ecx, offset 2b
    call field
.endm


.text
.code32
.global _start
_start:
    mov edi, eax                # the loader's EAX, before anything changes it
    mov esp, offset stack_top
    pushfd
    pop ebp                     # EFLAGS as the loader left them (mov changes no flag)
    mov esi, ebx
    mov eax, edi
    FIELD "eax="
    mov eax, ebp
    and eax, 0x20200            # VM and IF, which must be clear; the other bits are undefined
    FIELD "eflags.vm_if="
    mov eax, cr0
    FIELD "cr0="
    mov eax, cr4
    FIELD "cr4="
    mov ecx, 0xC0000080
    rdmsr
    FIELD "efer="
    SEG cs
    SEG ds
    SEG es
    SEG fs
    SEG gs
    SEG ss
    mov eax, [esi]
    and eax, 0x24d              # memory, cmdline, mods, mmap, boot loader name
    FIELD "mbi.flags="
    mov eax, [esi + 4]
    FIELD "mbi.mem_lower="
    mov eax, [esi + 20]
    FIELD "mbi.mods_count="
    mov dword ptr [0x12340], 0
    mov dword ptr [0x112340], 0xa20a20
    mov eax, [0x12340]          # 0 unless A20 is masked (then 1 MiB + x aliases x)
    FIELD "a20.alias="
    mov al, 0x21
    out 0xf4, al
1:  hlt
    jmp 1b

.section .bss
.align 16
    .skip 4096
stack_top:
""";

    @TempDir
    static Path dir;
    static Path kernel;

    @BeforeAll
    static void build() {
        kernel = LoaderKernels.elf32(dir, "handoff", KERNEL);
    }

    @Test
    void atTheFirstKernelInstruction_theCpuIsAsMultibootRequires() {
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
            long entry = ElfImage.read(kernel).entry();
            RunResult result = boot.runToKernelEntry();
            CpuState cpu = result.cpu();
            assertEquals(StopReason.REACHED_END, result.reason(), result.detail());
            assertEquals(entry, cpu.rip());
            assertEquals(0x2BADB002L, boot.machine().register(X86Reg.EAX));
            assertEquals(MultibootInfo.ADDRESS, boot.machine().register(X86Reg.EBX));
            assertEquals(0x11, cpu.cr0(), "CR0: PE, and ET, which reads 1 on every CPU since the 486");
            assertEquals(0, cpu.cr4(), "CR4 (Unicorn's reset value is 0x50200)");
            assertEquals(0, cpu.efer(), "EFER");
            assertEquals(0x2, boot.machine().register(X86Reg.EFLAGS), "EFLAGS: only the reserved bit 1");
            GuestRam ram = boot.machine().ram();
            assertFlat(ram, cpu, cpu.cs(), "CS", 0xA);
            for (int segment : new int[]{X86Reg.DS, X86Reg.ES, X86Reg.FS, X86Reg.GS, X86Reg.SS}) {
                assertFlat(ram, cpu, (int) boot.machine().register(segment), "segment register " + segment, 0x2);
            }
        }
    }

    /** The GDT descriptor of {@code selector}: base 0, 4 GiB limit (G), 32-bit (D), not 64-bit (L), ring 0. */
    private static void assertFlat(GuestRam ram, CpuState cpu, int selector, String what, int type) {
        long descriptor = ram.read64(cpu.gdtr().base() + (selector & ~7));
        long base = ((descriptor >>> 16) & 0xffffff) | ((descriptor >>> 32) & 0xff000000L);
        long limit = (descriptor & 0xffff) | ((descriptor >>> 32) & 0xf0000);
        assertEquals(0, base, what + " base");
        assertEquals(0xfffff, limit, what + " limit");
        assertEquals(0xc, (descriptor >>> 52) & 0xf, what + " flags: G and D set, L clear");
        assertEquals(0x90 | type, (descriptor >>> 40) & 0xfe, what + " access: present, ring 0, type");
    }

    @Test
    void theKernelsOwnReport_isTheSpecifiedState() {
        assertEquals(EXPECTED, underKemu().console());
        assertEquals(0x21, underKemu().exitCode());
    }

    @Test
    void theKernelsOwnReport_readsTheSameUnderQemu() {
        assumeTrue(LoaderKernels.qemuInstalled(), "qemu-system-x86_64 is not installed");
        LoaderKernels.QemuRun qemu = LoaderKernels.qemu(kernel, dir);
        assertEquals(underKemu().console(), qemu.console(), qemu.output());
        assertEquals(0x21 << 1 | 1, qemu.status(), "isa-debug-exit: (value << 1) | 1");
    }

    record Run(String console, int exitCode) {}

    private static Run underKemu() {
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
            RunResult result = boot.machine().run(boot.symbols().address("fw_entry"),
                    new RunLimits(1_000_000, Duration.ofSeconds(30)));
            assertEquals(StopReason.EXIT_PORT, result.reason(), result.detail());
            assertFalse(boot.console().text().isEmpty());
            return new Run(boot.console().text(), result.exitCode());
        }
    }

    /** What the specification demands (A20 on: 1 MiB + x does not alias x) and what kemu gives (no modules). */
    private static final String EXPECTED = """
            eax=2badb002
            eflags.vm_if=00000000
            cr0=00000011
            cr4=00000000
            efer=00000000
            cs.limit=ffffffff
            cs.ar=00c09a00
            ds.limit=ffffffff
            ds.ar=00c09200
            es.limit=ffffffff
            es.ar=00c09200
            fs.limit=ffffffff
            fs.ar=00c09200
            gs.limit=ffffffff
            gs.ar=00c09200
            ss.limit=ffffffff
            ss.ar=00c09200
            mbi.flags=0000024d
            mbi.mem_lower=0000027f
            mbi.mods_count=00000000
            a20.alias=00000000
            """;
}
