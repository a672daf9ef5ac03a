package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.keystone.GnuReference.Snippet;

import java.util.ArrayList;
import java.util.List;

/**
 * A generated corpus of single instructions for the differential test: every addressing form with
 * several operand sizes and mnemonics, in 64-, 32- and 16-bit code, plus privileged instructions
 * and far transfers. Generated from small tables, so adding a form adds it in every combination.
 */
final class InstructionCorpus {
    private static final List<String> MEMORY_64 = List.of(
            "[rax]", "[rsp]", "[rbp]", "[r12]", "[r13]", "[rbx+8]", "[rbx-0x80]", "[rbx+0x1000]",
            "[rax+rcx*1]", "[rax+rcx*2+4]", "[rsi+rdi*4-8]", "[r8+r9*8+0x12345]", "[rcx*8+0x10]",
            "[rbp+rax*2]", "[r13+r14*4+1]", "[0x1234]", "[rip+0x100]", "[esi+4]");
    private static final List<String> MEMORY_32 = List.of(
            "[eax]", "[esp]", "[ebp]", "[ebx+8]", "[ebx+0x1000]", "[eax+ecx*2+4]", "[ecx*8+0x10]",
            "[ebp+esi*4-8]", "[0x1234]");
    private static final List<String> MEMORY_16 = List.of(
            "[bx]", "[si]", "[di]", "[bp]", "[bx+si]", "[bx+di+4]", "[bp+si+0x100]", "[bp+di]", "[0x1234]");
    private static final List<String> ALU = List.of("mov", "add", "sub", "and", "or", "xor", "cmp", "adc", "sbb");
    private static final List<String> UNARY = List.of("inc", "dec", "neg", "not", "mul", "div");
    private static final List<String> PRIVILEGED_64 = List.of(
            "cli", "sti", "hlt", "lgdt [rax]", "lidt [rax]", "sgdt [rax]", "ltr ax", "lldt ax", "str ax",
            "mov cr0, rax", "mov rax, cr0", "mov cr3, rax", "mov rax, cr2", "mov cr4, rax", "mov cr8, rax",
            "mov dr7, rax", "rdmsr", "wrmsr", "invlpg [rax]", "swapgs", "sysretq", "syscall", "iretq",
            "wbinvd", "invd", "cpuid", "rdtsc", "int 0x80", "int3", "in al, dx", "out dx, al", "in eax, 0x60",
            "out 0x80, al", "outsb", "rep stosq", "rep movsb", "pause", "lfence", "mfence", "xsetbv",
            "clts", "lmsw ax", "smsw ax", "verr ax", "ud2");
    private static final List<String> PRIVILEGED_32 = List.of(
            "lgdt [eax]", "lidt [eax]", "mov cr0, eax", "mov eax, cr0", "mov cr3, eax", "iretd", "iret",
            "ltr ax", "in al, 0x92", "out 0x92, al", "cli", "hlt", "pushad", "popad", "pushfd", "popfd");
    private static final List<String> FAR = List.of(
            "64|jmp fword ptr [rax]", "64|call fword ptr [rax]", "64|jmp qword ptr [rax]",
            "32|retf", "32|jmp fword ptr [eax]", "32|call fword ptr [eax]", "32|ljmp 0x08:0x100000",
            "32|jmp 0x08:0x100000", "16|ljmp 0x08:0x1000", "16|jmp 0x08:0x1000", "16|retf");

    private InstructionCorpus() {
    }

    static List<Snippet> generate() {
        List<Snippet> corpus = new ArrayList<>();
        String[][] registers64 = {{"al", "bl"}, {"ax", "bx"}, {"eax", "ebx"}, {"rax", "rbx"}, {"r8d", "r15d"},
                {"r9", "r14"}, {"sil", "dil"}};
        String[] sizes = {"byte", "word", "dword", "qword"};
        for (String op : ALU) {
            for (String[] pair : registers64) {
                corpus.add(new Snippet(64, op + " " + pair[0] + ", " + pair[1]));
                corpus.add(new Snippet(64, op + " " + pair[0] + ", 1"));
                corpus.add(new Snippet(64, op + " " + pair[0] + ", 0x7f"));
            }
            for (String memory : MEMORY_64) {
                corpus.add(new Snippet(64, op + " " + memory + ", eax"));
                corpus.add(new Snippet(64, op + " rcx, qword ptr " + memory));
            }
            for (String size : sizes) {
                corpus.add(new Snippet(64, op + " " + size + " ptr [rbx+4], 0x12"));
            }
            corpus.add(new Snippet(64, op + " eax, 0x12345678"));
            corpus.add(new Snippet(64, op + " rax, -1"));
        }
        for (String op : UNARY) {
            for (String size : sizes) {
                corpus.add(new Snippet(64, op + " " + size + " ptr [rsi+rdi*2]"));
            }
            corpus.add(new Snippet(64, op + " r11"));
        }
        for (String memory : MEMORY_64) {
            corpus.add(new Snippet(64, "lea rax, " + memory));
            corpus.add(new Snippet(64, "push qword ptr " + memory));
        }
        corpus.add(new Snippet(64, "mov rax, 0x123456789abcdef0"));
        corpus.add(new Snippet(64, "mov eax, 42"));
        corpus.add(new Snippet(64, "movzx eax, byte ptr [rbx]"));
        corpus.add(new Snippet(64, "movsx rax, word ptr [rbx]"));
        corpus.add(new Snippet(64, "movsxd rax, dword ptr [rbx]"));
        corpus.add(new Snippet(64, "imul eax, ebx, 12"));
        corpus.add(new Snippet(64, "shl rax, 3"));
        corpus.add(new Snippet(64, "sar dword ptr [rax], cl"));
        corpus.add(new Snippet(64, "xchg rax, rbx"));
        corpus.add(new Snippet(64, "test byte ptr [rax], 1"));
        corpus.add(new Snippet(64, "push 0x10"));
        corpus.add(new Snippet(64, "pop r12"));
        for (String op : List.of("mov", "add", "cmp")) {
            for (String memory : MEMORY_32) {
                corpus.add(new Snippet(32, op + " " + memory + ", eax"));
                corpus.add(new Snippet(32, op + " cx, word ptr " + memory));
            }
            for (String memory : MEMORY_16) {
                corpus.add(new Snippet(16, op + " " + memory + ", ax"));
                corpus.add(new Snippet(16, op + " ecx, dword ptr " + memory));
            }
            corpus.add(new Snippet(32, op + " eax, 0x12345678"));
            corpus.add(new Snippet(16, op + " ax, 0x1234"));
            corpus.add(new Snippet(16, op + " eax, 0x12345678"));
        }
        PRIVILEGED_64.forEach(i -> corpus.add(new Snippet(64, i)));
        PRIVILEGED_32.forEach(i -> corpus.add(new Snippet(32, i)));
        for (String far : FAR) {
            String[] parts = far.split("\\|");
            corpus.add(new Snippet(Integer.parseInt(parts[0]), parts[1]));
        }
        return corpus;
    }
}
