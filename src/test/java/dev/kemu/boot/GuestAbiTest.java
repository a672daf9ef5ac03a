package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.devices.DebugConsole;
import dev.kemu.machine.devices.ExitPort;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The constants the guest assembles with must be the ones Java uses: every {@code .set} of
 * kemu.inc is compared, by name with {@link GuestAbi} (so constants added to both later are
 * checked without touching this test), else with the Java constant listed below, else with
 * what the booted kernel really does.
 */
class GuestAbiTest {
    private static final Pattern SET = Pattern.compile("(?m)^\\.set\\s+(\\w+),\\s*(\\S+)");

    /** kemu.inc constants whose Java counterpart lives outside GuestAbi, under another name. */
    private static final Map<String, Long> ELSEWHERE = Map.ofEntries(
            Map.entry("DEBUGCON_PORT", (long) DebugConsole.PORT),
            Map.entry("EXIT_PORT", (long) ExitPort.PORT),
            Map.entry("MSR_EFER", Integer.toUnsignedLong(X86Reg.MSR_EFER)),
            Map.entry("EFER_LME", CpuState.EFER_LME),
            Map.entry("EFER_NXE", CpuState.EFER_NXE),
            Map.entry("CR0_PE", CpuState.CR0_PE),
            Map.entry("CR0_WP", CpuState.CR0_WP),
            Map.entry("CR0_PG", CpuState.CR0_PG),
            Map.entry("CR4_PAE", CpuState.CR4_PAE),
            Map.entry("PTE_PRESENT", PageTableEntry.PRESENT),
            Map.entry("PTE_WRITABLE", PageTableEntry.WRITABLE),
            Map.entry("PTE_HUGE", PageTableEntry.HUGE),
            Map.entry("PTE_NX_HIGH", PageTableEntry.NO_EXECUTE >>> 32));

    /** Guest-only constants, checked against the built kernel below. */
    private static final List<String> CHECKED_ON_THE_KERNEL = List.of("BOOT_CODE_SELECTOR", "BOOT_DATA_SELECTOR",
            "MULTIBOOT_HEADER_FLAGS");

    private static Map<String, Long> assemblyConstants() throws Exception {
        String text = Files.readString(KernelSources.home().resolve("kernel-asm/include/kemu.inc"));
        Matcher m = SET.matcher(text);
        Map<String, Long> constants = new TreeMap<>();
        while (m.find()) {
            String value = m.group(2);
            assertTrue(value.matches("-?(0x[0-9a-fA-F]+|\\d+)"), ".set " + m.group(1) + " has value '" + value
                    + "', which this test cannot read; use a hex or decimal literal");
            boolean negative = value.startsWith("-");
            String digits = negative ? value.substring(1) : value;
            long magnitude = digits.startsWith("0x") ? Long.parseUnsignedLong(digits.substring(2), 16)
                    : Long.parseLong(digits);
            Long previous = constants.put(m.group(1), negative ? -magnitude : magnitude);
            assertEquals(null, previous, m.group(1) + " is set twice in kemu.inc");
        }
        long setLines = text.lines().filter(line -> line.strip().startsWith(".set")).count();
        assertEquals(setLines, constants.size(), "every .set line of kemu.inc must be parsed");
        return constants;
    }

    private static Map<String, Long> guestAbiConstants() throws IllegalAccessException {
        Map<String, Long> constants = new TreeMap<>();
        for (Field field : GuestAbi.class.getFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && (field.getType() == int.class || field.getType() == long.class)) {
                // an int constant means its 32 bits, as `.long` and 32-bit operands in the guest do
                long value = ((Number) field.get(null)).longValue();
                constants.put(field.getName(), field.getType() == int.class && value < 0
                        ? Integer.toUnsignedLong((int) value) : value);
            }
        }
        return constants;
    }

    @Test
    void everyKemuIncConstant_equalsItsJavaCounterpart() throws Exception {
        Map<String, Long> asm = assemblyConstants();
        Map<String, Long> java = guestAbiConstants();
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (Map.Entry<String, Long> constant : asm.entrySet()) {
            String name = constant.getKey();
            Long expected = java.containsKey(name) ? java.get(name) : ELSEWHERE.get(name);
            if (expected == null) {
                if (!CHECKED_ON_THE_KERNEL.contains(name)) {
                    mismatches.add(name + " has no Java counterpart: add it to GuestAbi with the same name");
                }
                continue;
            }
            compared++;
            if (expected.longValue() != constant.getValue() && !sameLow32Bits(expected, constant.getValue())) {
                mismatches.add(String.format("%s is 0x%x in kemu.inc but 0x%x in Java", name, constant.getValue(),
                        expected));
            }
        }
        assertEquals(List.of(), mismatches);
        assertEquals(asm.size() - CHECKED_ON_THE_KERNEL.size(), compared);
    }

    @Test
    void hypercallNumbers_areTheSameSetOnBothSides() throws Exception {
        TreeSet<String> asm = new TreeSet<>(assemblyConstants().keySet());
        TreeSet<String> java = new TreeSet<>(guestAbiConstants().keySet());
        asm.removeIf(name -> !name.startsWith("HC_"));
        java.removeIf(name -> !name.startsWith("HC_"));
        assertEquals(java, asm, "hypercall numbers in GuestAbi and kemu.inc");
        assertEquals(28, asm.size(), "HC_PROBE, the 21 memory services and the 6 address-space services");
    }

    @Test
    void guestOnlyConstants_matchTheBuiltKernel() throws Exception {
        Map<String, Long> asm = assemblyConstants();
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            CpuState cpu = boot.runTo("kmain").cpu();
            assertEquals(asm.get("BOOT_CODE_SELECTOR"), (long) cpu.cs(), "CS at kmain");
            assertEquals(asm.get("BOOT_DATA_SELECTOR"), (long) cpu.ss(), "SS at kmain");
        }
        assertEquals(asm.get("MULTIBOOT_HEADER_FLAGS"), (long) multibootHeaderFlags(Files.readAllBytes(images.kernel())));
    }

    /** A negative int constant in Java is the same 32-bit value as the guest's positive or negative literal. */
    private static boolean sameLow32Bits(long java, long asm) {
        return java == Integer.toUnsignedLong((int) java) && (int) java == (int) asm && asm >= Integer.MIN_VALUE
                && asm <= 0xffff_ffffL;
    }

    /** The flags word after the header magic, which Multiboot requires in the first 8 KiB, 4-aligned. */
    private static int multibootHeaderFlags(byte[] image) {
        ByteBuffer bytes = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 12 <= Math.min(image.length, 8192); at += 4) {
            if (bytes.getInt(at) == GuestAbi.MULTIBOOT_HEADER_MAGIC) {
                int flags = bytes.getInt(at + 4);
                assertEquals(0, GuestAbi.MULTIBOOT_HEADER_MAGIC + flags + bytes.getInt(at + 8), "header checksum");
                return flags;
            }
        }
        throw new AssertionError("no Multiboot header in the first 8 KiB of the kernel image");
    }
}
