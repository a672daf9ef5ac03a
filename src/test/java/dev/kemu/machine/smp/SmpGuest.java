package dev.kemu.machine.smp;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;

/**
 * A bare multi-CPU machine for tests: identity page tables (1 GiB of 2 MiB pages), an AP trampoline at the
 * STARTUP vector's page that goes from real mode to long mode with the CR3 the BSP left in a mailbox and then
 * jumps to the 64-bit routine named in another mailbox, and a port that stands in for a local APIC's ICR
 * (the test sends INIT and STARTUP through the {@link CpuSet}'s router, as an APIC would).
 *
 * <pre>
 *   P0x8000  trampoline (vector 8)      P0x8fe0 AP entry (u64)   P0x8ff0 CR3 (u32)   P0x8ff8 counter (u32)
 *   P0x9000  per-CPU words, 8 bytes apart, by APIC ID
 *   P0x10000 BSP code   P0x20000 AP code   P0x30000 PML4, PDPT, PD   P0x70000 AP stacks (4 KiB each, top down)
 * </pre>
 */
final class SmpGuest implements AutoCloseable {
    static final int VECTOR = 8;
    static final long TRAMPOLINE = 0x8000, AP_ENTRY = 0x8fe0, CR3_MAILBOX = 0x8ff0, COUNTER = 0x8ff8, PER_CPU = 0x9000;
    static final long BSP_CODE = 0x10000, AP_CODE = 0x20000, PML4 = 0x30000, PDPT = 0x31000, PD = 0x32000, APIC_PD = 0x33000;
    /** The stand-in ICR: a 32-bit out of target | command << 8 | vector << 16 (command 1 INIT, 2 STARTUP). */
    static final int ICR_PORT = 0x600;

    final Machine bsp;
    final CpuSet cpus;

    SmpGuest(int count) {
        this(count, CpuSet.QUANTUM);
    }

    SmpGuest(int count, long quantum) {
        this(count, quantum, false);
    }

    /**
     * {@code apics}: the PC interrupt hardware on the BSP before the CPU set is made, so that every CPU has its
     * local APIC at 0xfee00000 (identity-mapped with a 2 MiB page at the PD that P0x33000 holds), routed by the set.
     */
    SmpGuest(int count, long quantum, boolean apics) {
        bsp = new Machine(16 << 20);
        if (apics) {
            bsp.attachPcInterrupts();
        }
        cpus = new CpuSet(bsp, count, quantum);
        bsp.attach(ICR_PORT, new PortDevice() {
            @Override
            public void write(Machine machine, int port, int size, int value) {
                int source = (int) (machine.cpu().gprs()[3] & 0xff); // rbx: the sender's APIC ID (the test's convention)
                int target = value & 0xff;
                switch ((value >>> 8) & 0xff) {
                    case 1 -> cpus.init(source, target);
                    case 2 -> cpus.startup(source, target, (value >>> 16) & 0xff);
                    default -> throw new IllegalArgumentException("stand-in ICR command " + ((value >>> 8) & 0xff));
                }
            }
        });
        bsp.ram().write64(PML4, PDPT | 3);
        bsp.ram().write64(PDPT, PD | 3);
        for (int i = 0; i < 512; i++) {
            bsp.ram().write64(PD + 8L * i, (long) i << 21 | 0x83);
        }
        if (apics) {
            bsp.ram().write64(PDPT + 8 * 3, APIC_PD | 3);
            bsp.ram().write64(APIC_PD + 8 * ((0xfee0_0000L >>> 21) & 511), 0xfee0_0000L | 0x93); // PS, PCD, RW, P
        }
        bsp.ram().write(TRAMPOLINE, FlatBinary.assemble(TRAMPOLINE_SOURCE, TRAMPOLINE));
        bsp.ram().write64(AP_ENTRY, AP_CODE);
    }

    /** Real mode at 0800:0000 to long mode; the AP's stack is 0x70000 - 0x1000 * APIC ID; then jmp [AP_ENTRY]. */
    static final String TRAMPOLINE_SOURCE = """
            .code16
            start:
                cli
                mov ax, cs
                mov ds, ax
                lgdt [gdtr - start]
                mov eax, cr0
                or eax, 1
                mov cr0, eax
                ljmp 0x08, offset pm32
            .code32
            pm32:
                mov ax, 0x10
                mov ds, ax
                mov es, ax
                mov ss, ax
                mov eax, cr4
                or eax, 0x20
                mov cr4, eax
                mov eax, [0x8ff0]
                mov cr3, eax
                mov ecx, 0xc0000080
                rdmsr
                or eax, 0x100
                wrmsr
                mov eax, cr0
                or eax, 0x80000000
                mov cr0, eax
                ljmp 0x18, offset lm64
            .code64
            lm64:
                mov eax, 1
                cpuid
                shr ebx, 24
                mov rsp, 0x70000
                mov eax, ebx
                shl eax, 12
                sub rsp, rax
                jmp [0x8fe0]
            .balign 8
            gdt:
                .quad 0
                .quad 0x00cf9a000000ffff
                .quad 0x00cf92000000ffff
                .quad 0x00af9a000000ffff
            gdtr:
                .word 31
                .long gdt
            """;

    /** The BSP's prologue: long mode with paging on PML4, CR3 into the mailbox, rbx = 0 (its APIC ID). */
    static final String BSP_PROLOGUE = """
            .code64
                mov eax, 0x30000
                mov cr3, rax
                mov rax, cr4
                or eax, 0x20
                mov cr4, rax
                mov rax, cr0
                or eax, 0x80000000
                mov cr0, rax
                mov rax, cr3
                mov [0x8ff0], eax
                xor ebx, ebx
                mov dx, 0x600
            """;

    /** Starts APs 1 to {@code count - 1} with INIT, STARTUP, STARTUP (as the MP specification's sequence). */
    static String startAps(int count) {
        return """
                    mov ecx, 1
                1:  cmp ecx, %d
                    jae 2f
                    mov eax, ecx
                    or eax, 0x100
                    out dx, eax
                    mov eax, ecx
                    or eax, 0x080200
                    out dx, eax
                    out dx, eax
                    inc ecx
                    jmp 1b
                2:
                """.formatted(count);
    }

    void loadBsp(String body) {
        bsp.ram().write(BSP_CODE, FlatBinary.assemble(BSP_PROLOGUE + body, BSP_CODE));
    }

    void loadAp(String body) {
        bsp.ram().write(AP_CODE, FlatBinary.assemble(".code64\n" + body, AP_CODE));
    }

    SmpRunResult run() {
        return cpus.run(BSP_CODE, 50_000_000);
    }

    @Override
    public void close() {
        cpus.close();
        bsp.close();
    }
}
