package dev.kemu.capstone;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Optional;
import java.util.function.IntFunction;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The part of Capstone 4's {@code cs_detail} that kemu reads: the x86 operands, and of a memory
 * operand its segment, base, index, scale and displacement. The layouts follow capstone.h and
 * x86.h of Capstone 4.0 (libcapstone4 4.0.2 on Debian 12); Capstone 5 grew {@code regs_read}
 * and added fields, so {@link Capstone} refuses detail mode for any other major version rather
 * than read the wrong bytes.
 */
final class X86Detail {
    /** {@code x86_op_type}: X86_OP_MEM. */
    private static final int OP_MEM = 3;

    /** {@code x86_op_mem}. */
    private static final StructLayout OP_MEM_LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("segment"), JAVA_INT.withName("base"), JAVA_INT.withName("index"),
            JAVA_INT.withName("scale"), JAVA_LONG.withName("disp"));

    /** {@code cs_x86_op}: type, a union whose largest member is the memory operand, size, access, AVX fields. */
    private static final StructLayout OP = MemoryLayout.structLayout(
            JAVA_INT.withName("type"), MemoryLayout.paddingLayout(4),
            OP_MEM_LAYOUT.withName("mem"),
            JAVA_BYTE.withName("size"), JAVA_BYTE.withName("access"), MemoryLayout.paddingLayout(2),
            JAVA_INT.withName("avx_bcast"), JAVA_BYTE.withName("avx_zero_opmask"), MemoryLayout.paddingLayout(7));

    /** {@code cs_x86}. */
    private static final StructLayout X86 = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("prefix"),
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("opcode"),
            JAVA_BYTE.withName("rex"), JAVA_BYTE.withName("addr_size"), JAVA_BYTE.withName("modrm"),
            JAVA_BYTE.withName("sib"), MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("disp"), JAVA_INT.withName("sib_index"), JAVA_BYTE.withName("sib_scale"),
            MemoryLayout.paddingLayout(3), JAVA_INT.withName("sib_base"), JAVA_INT.withName("xop_cc"),
            JAVA_INT.withName("sse_cc"), JAVA_INT.withName("avx_cc"), JAVA_BYTE.withName("avx_sae"),
            MemoryLayout.paddingLayout(3), JAVA_INT.withName("avx_rm"), JAVA_LONG.withName("eflags"),
            JAVA_BYTE.withName("op_count"), MemoryLayout.paddingLayout(7),
            MemoryLayout.sequenceLayout(8, OP).withName("operands"));

    /** {@code cs_detail}: registers read and written, groups, then the architecture's union (8-aligned). */
    private static final StructLayout DETAIL = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(12, ValueLayout.JAVA_SHORT).withName("regs_read"),
            JAVA_BYTE.withName("regs_read_count"), MemoryLayout.paddingLayout(1),
            MemoryLayout.sequenceLayout(20, ValueLayout.JAVA_SHORT).withName("regs_write"),
            JAVA_BYTE.withName("regs_write_count"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("groups"), JAVA_BYTE.withName("groups_count"),
            MemoryLayout.paddingLayout(4), X86.withName("x86"));

    private static final long X86_OFFSET = DETAIL.byteOffset(groupElement("x86"));
    private static final VarHandle ADDR_SIZE = X86.varHandle(groupElement("addr_size"));
    private static final VarHandle OP_COUNT = X86.varHandle(groupElement("op_count"));
    private static final VarHandle TYPE = X86.varHandle(groupElement("operands"), sequenceElement(), groupElement("type"));
    private static final VarHandle SEGMENT = memField("segment"), BASE = memField("base"), INDEX = memField("index"),
            SCALE = memField("scale"), DISP = memField("disp");
    private static final int MAX_OPERANDS = 8;

    private X86Detail() {}

    private static VarHandle memField(String name) {
        return X86.varHandle(groupElement("operands"), sequenceElement(), groupElement("mem"), groupElement(name));
    }

    /** Bytes of {@code cs_detail} read (up to the end of the x86 operands). */
    static long byteSize() {
        return X86_OFFSET + X86.byteSize();
    }

    /** The first memory operand of the instruction whose {@code cs_detail} is {@code detail}; names from {@code registerName}. */
    static Optional<Capstone.MemoryOperand> memoryOperand(MemorySegment detail, IntFunction<String> registerName) {
        MemorySegment x86 = detail.asSlice(X86_OFFSET, X86.byteSize());
        int count = Math.min(Byte.toUnsignedInt((byte) OP_COUNT.get(x86, 0L)), MAX_OPERANDS);
        for (long i = 0; i < count; i++) {
            if ((int) TYPE.get(x86, 0L, i) == OP_MEM) {
                return Optional.of(new Capstone.MemoryOperand(registerName.apply((int) SEGMENT.get(x86, 0L, i)),
                        registerName.apply((int) BASE.get(x86, 0L, i)), registerName.apply((int) INDEX.get(x86, 0L, i)),
                        (int) SCALE.get(x86, 0L, i), (long) DISP.get(x86, 0L, i),
                        Byte.toUnsignedInt((byte) ADDR_SIZE.get(x86, 0L))));
            }
        }
        return Optional.empty();
    }
}
