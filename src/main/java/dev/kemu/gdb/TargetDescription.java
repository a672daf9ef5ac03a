package dev.kemu.gdb;

import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * kemu's one register layout, from the first instruction to kmain: gdb's amd64 core, SSE and
 * segment-base features plus the control registers and EFER. The layout never changes with the
 * CPU's mode, so gdb keeps one session across the 32-bit entry, the switch to long mode and the
 * jump to the higher half (QEMU's stub switches layouts there and gdb fails with "Remote 'g'
 * packet reply is too long"). In 32-bit code the upper halves read as zero.
 */
final class TargetDescription {
    private static final int ST0 = 114, XMM0 = 122, FPSW = 31, FPCW = 246, FPTAG = 247, MXCSR = 249;
    private static final int FIP = 254, FCS = 255, FDP = 256, FDS = 257, FOP = 258;

    private final List<GdbRegister> core = new ArrayList<>();
    private final List<GdbRegister> sse = new ArrayList<>();
    private final List<GdbRegister> segments = new ArrayList<>();
    private final List<GdbRegister> system = new ArrayList<>();
    private final List<GdbRegister> all = new ArrayList<>();

    TargetDescription() {
        String[] gprs = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"};
        int[] gprIds = {X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.RBP, X86Reg.RSP};
        for (int i = 0; i < gprs.length; i++) {
            core.add(plain(gprs[i], 64, i == 6 || i == 7 ? "data_ptr" : "int64", "general", gprIds[i]));
        }
        int[] high = {X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};
        for (int i = 0; i < high.length; i++) {
            core.add(plain("r" + (8 + i), 64, "int64", "general", high[i]));
        }
        core.add(plain("rip", 64, "code_ptr", "general", X86Reg.RIP));
        core.add(plain("eflags", 32, "i386_eflags", "general", X86Reg.EFLAGS));
        String[] segs = {"cs", "ss", "ds", "es", "fs", "gs"};
        int[] segIds = {X86Reg.CS, X86Reg.SS, X86Reg.DS, X86Reg.ES, X86Reg.FS, X86Reg.GS};
        for (int i = 0; i < segs.length; i++) {
            core.add(plain(segs[i], 32, "int32", "general", segIds[i]));
        }
        for (int i = 0; i < 8; i++) {
            core.add(new GdbRegister("st" + i, 80, "i387_ext", "float", ST0 + i, GdbRegister.Kind.WIDE));
        }
        core.add(plain("fctrl", 32, "int", "float", FPCW));
        core.add(plain("fstat", 32, "int", "float", FPSW));
        core.add(plain("ftag", 32, "int", "float", FPTAG));
        core.add(plain("fiseg", 32, "int", "float", FCS));
        core.add(plain("fioff", 32, "int", "float", FIP));
        core.add(plain("foseg", 32, "int", "float", FDS));
        core.add(plain("fooff", 32, "int", "float", FDP));
        core.add(plain("fop", 32, "int", "float", FOP));
        for (int i = 0; i < 16; i++) {
            sse.add(new GdbRegister("xmm" + i, 128, "vec128", "vector", XMM0 + i, GdbRegister.Kind.WIDE));
        }
        sse.add(plain("mxcsr", 32, "i386_mxcsr", "vector", MXCSR));
        segments.add(plain("fs_base", 64, "int", "system", X86Reg.FS_BASE));
        segments.add(plain("gs_base", 64, "int", "system", X86Reg.GS_BASE));
        system.add(plain("cr0", 64, "int", "system", X86Reg.CR0));
        system.add(plain("cr2", 64, "int", "system", X86Reg.CR2));
        system.add(plain("cr3", 64, "int", "system", X86Reg.CR3));
        system.add(plain("cr4", 64, "int", "system", X86Reg.CR4));
        system.add(plain("cr8", 64, "int", "system", X86Reg.CR8));
        system.add(new GdbRegister("efer", 64, "int", "system", GdbRegister.EFER, GdbRegister.Kind.MSR));
        all.addAll(core);
        all.addAll(sse);
        all.addAll(segments);
        all.addAll(system);
    }

    private static GdbRegister plain(String name, int bits, String type, String group, int id) {
        return new GdbRegister(name, bits, type, group, id, GdbRegister.Kind.PLAIN);
    }

    /** All registers in gdb's numbering (the order of the {@code g} packet). */
    List<GdbRegister> registers() {
        return all;
    }

    Optional<GdbRegister> register(int number) {
        return number >= 0 && number < all.size() ? Optional.of(all.get(number)) : Optional.empty();
    }

    Optional<Integer> number(String name) {
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).name().equals(name)) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    /** The XML gdb reads with {@code qXfer:features:read:target.xml}. */
    String xml() {
        StringBuilder out = new StringBuilder();
        out.append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        out.append("  <architecture>i386:x86-64</architecture>\n");
        int regnum = 0;
        out.append("  <feature name=\"org.gnu.gdb.i386.core\">\n").append(coreTypes());
        for (GdbRegister r : core) {
            out.append(r.xml(regnum++));
        }
        out.append("  </feature>\n  <feature name=\"org.gnu.gdb.i386.sse\">\n").append(sseTypes());
        for (GdbRegister r : sse) {
            out.append(r.xml(regnum++));
        }
        out.append("  </feature>\n  <feature name=\"org.gnu.gdb.i386.segments\">\n");
        for (GdbRegister r : segments) {
            out.append(r.xml(regnum++));
        }
        out.append("  </feature>\n  <feature name=\"dev.kemu.x86.system\">\n");
        for (GdbRegister r : system) {
            out.append(r.xml(regnum++));
        }
        out.append("  </feature>\n</target>\n");
        return out.toString();
    }

    private static String coreTypes() {
        StringBuilder out = new StringBuilder("    <flags id=\"i386_eflags\" size=\"4\">\n");
        String[][] bits = {{"CF", "0"}, {"", "1"}, {"PF", "2"}, {"AF", "4"}, {"ZF", "6"}, {"SF", "7"}, {"TF", "8"},
                {"IF", "9"}, {"DF", "10"}, {"OF", "11"}, {"NT", "14"}, {"RF", "16"}, {"VM", "17"}, {"AC", "18"},
                {"VIF", "19"}, {"VIP", "20"}, {"ID", "21"}};
        for (String[] bit : bits) {
            out.append("      <field name=\"").append(bit[0]).append("\" start=\"").append(bit[1])
                    .append("\" end=\"").append(bit[1]).append("\"/>\n");
        }
        return out.append("    </flags>\n").toString();
    }

    private static String sseTypes() {
        return """
                    <vector id="v8bf16" type="bfloat16" count="8"/>
                    <vector id="v4f" type="ieee_single" count="4"/>
                    <vector id="v2d" type="ieee_double" count="2"/>
                    <vector id="v16i8" type="int8" count="16"/>
                    <vector id="v8i16" type="int16" count="8"/>
                    <vector id="v4i32" type="int32" count="4"/>
                    <vector id="v2i64" type="int64" count="2"/>
                    <union id="vec128">
                      <field name="v8_bfloat16" type="v8bf16"/>
                      <field name="v4_float" type="v4f"/>
                      <field name="v2_double" type="v2d"/>
                      <field name="v16_int8" type="v16i8"/>
                      <field name="v8_int16" type="v8i16"/>
                      <field name="v4_int32" type="v4i32"/>
                      <field name="v2_int64" type="v2i64"/>
                      <field name="uint128" type="uint128"/>
                    </union>
                    <flags id="i386_mxcsr" size="4">
                      <field name="IE" start="0" end="0"/>
                      <field name="DE" start="1" end="1"/>
                      <field name="ZE" start="2" end="2"/>
                      <field name="OE" start="3" end="3"/>
                      <field name="UE" start="4" end="4"/>
                      <field name="PE" start="5" end="5"/>
                      <field name="DAZ" start="6" end="6"/>
                      <field name="IM" start="7" end="7"/>
                      <field name="DM" start="8" end="8"/>
                      <field name="ZM" start="9" end="9"/>
                      <field name="OM" start="10" end="10"/>
                      <field name="UM" start="11" end="11"/>
                      <field name="PM" start="12" end="12"/>
                      <field name="FZ" start="15" end="15"/>
                    </flags>
                """;
    }
}
