package dev.kemu.unicorn;

/** Register ids of {@code uc_x86_reg} (unicorn/x86.h, Unicorn 2.1) that kemu and its users need. */
public final class X86Reg {
    public static final int CS = 11, DS = 17, ES = 28, FS = 32, GS = 33, SS = 49;
    public static final int EFLAGS = 25, EIP = 26, EAX = 19, EBX = 21, ESP = 30;
    public static final int RAX = 35, RBP = 36, RBX = 37, RCX = 38, RDI = 39, RDX = 40, RIP = 41, RSI = 43, RSP = 44;
    public static final int CR0 = 50, CR2 = 52, CR3 = 53, CR4 = 54, CR8 = 58;
    public static final int R8 = 106, R9 = 107, R10 = 108, R11 = 109, R12 = 110, R13 = 111, R14 = 112, R15 = 113;
    public static final int IDTR = 242, GDTR = 243, LDTR = 244, TR = 245;
    public static final int MSR = 248;
    public static final int FS_BASE = 250, GS_BASE = 251;
    public static final int RFLAGS = 253;

    /** The sixteen general-purpose registers in encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15). */
    public static final int[] GPRS = {RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15};
    public static final String[] GPR_NAMES = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

    /** Model-specific register numbers. */
    public static final int MSR_EFER = 0xC0000080;

    private X86Reg() {}
}
