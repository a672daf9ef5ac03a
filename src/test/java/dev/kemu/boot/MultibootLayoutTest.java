package dev.kemu.boot;

import dev.kemu.kernel.MultibootLayout;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Multiboot layout the guest assembles with (multiboot.inc) is the one Java writes and reads. */
class MultibootLayoutTest {
    private static final Pattern SET = Pattern.compile("(?m)^\\.set\\s+(\\w+),\\s*(\\S+)");

    private static Map<String, Long> assemblyConstants() throws Exception {
        String text = Files.readString(KernelSources.home().resolve("kernel-asm/include/multiboot.inc"));
        Map<String, Long> constants = new TreeMap<>();
        Matcher m = SET.matcher(text);
        while (m.find()) {
            String value = m.group(2);
            assertTrue(value.matches("0x[0-9a-fA-F]+|\\d+"), ".set " + m.group(1) + " has value '" + value
                    + "', which this test cannot read; use a hex or decimal literal");
            long parsed = value.startsWith("0x") ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
            assertEquals(null, constants.put(m.group(1), parsed), m.group(1) + " is set twice in multiboot.inc");
        }
        assertEquals(text.lines().filter(l -> l.strip().startsWith(".set")).count(), constants.size(),
                "every .set line of multiboot.inc must be parsed");
        return constants;
    }

    private static Map<String, Long> javaConstants() throws IllegalAccessException {
        Map<String, Long> constants = new TreeMap<>();
        for (Field field : MultibootLayout.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
                constants.put(field.getName(), (long) field.getInt(null));
            }
        }
        return constants;
    }

    @Test
    void everyAssemblyConstant_equalsTheJavaConstantOfTheSameName_andNoneIsMissingOnEitherSide() throws Exception {
        assertEquals(javaConstants(), assemblyConstants());
    }

    @Test
    void kmain_definesNoMultibootOffsetOfItsOwn_andReadsTheInfoBlockThroughTheIncludeOnly() throws Exception {
        String kmain = Files.readString(KernelSources.home().resolve("kernel-asm/kmain.S"));
        assertTrue(kmain.contains(".include \"multiboot.inc\""), "kmain.S must include multiboot.inc");
        Map<String, Long> shared = assemblyConstants();
        Matcher set = SET.matcher(kmain);
        while (set.find()) {
            assertTrue(!set.group(1).startsWith("MBI_") && !set.group(1).startsWith("MMAP_"),
                    "kmain.S sets " + set.group(1) + " itself; it belongs in multiboot.inc");
        }
        for (String field : new String[]{"MMAP_SIZE", "MMAP_LENGTH", "MMAP_TYPE", "MBI_MMAP_ADDR", "MBI_MMAP_LENGTH"}) {
            assertTrue(kmain.contains(" + " + field + "]"), "kmain.S reads " + field + " by name");
        }
        assertTrue(shared.keySet().stream().filter(n -> n.startsWith("MMAP_")).anyMatch(kmain::contains),
                "kmain.S reads the memory map through the MMAP_ names");
    }

    @Test
    void theInfoBlockJavaWrites_readsBackThroughTheLayout() {
        try (var machine = new dev.kemu.machine.Machine(2 << 20)) {
            var map = MultibootInfo.pcMemoryMap(2 << 20);
            MultibootInfo.write(machine.ram(), map, "console=kemu");
            var ram = machine.ram();
            long info = MultibootInfo.ADDRESS;
            assertEquals(MultibootLayout.MBI_FLAG_MEMORY | MultibootLayout.MBI_FLAG_CMDLINE | MultibootLayout.MBI_FLAG_MODS
                    | MultibootLayout.MBI_FLAG_MMAP | MultibootLayout.MBI_FLAG_BOOT_LOADER_NAME,
                    ram.read32(info + MultibootLayout.MBI_FLAGS));
            assertEquals(0, ram.read32(info + MultibootLayout.MBI_MODS_COUNT));
            assertEquals("kemu 0.1.0", ram.readCString(Integer.toUnsignedLong(
                    ram.read32(info + MultibootLayout.MBI_BOOT_LOADER_NAME)), 64));
            assertEquals(map.size() * MultibootLayout.MMAP_ENTRY_BYTES, ram.read32(info + MultibootLayout.MBI_MMAP_LENGTH));
            long first = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MMAP_ADDR));
            assertEquals(map.get(1).base(), ram.read64(first + MultibootLayout.MMAP_ENTRY_BYTES + MultibootLayout.MMAP_BASE));
            assertEquals(map.get(1).type(), ram.read32(first + MultibootLayout.MMAP_ENTRY_BYTES + MultibootLayout.MMAP_TYPE));
            assertEquals(map, MultibootInfo.readMemoryMap(ram));
            var kernelView = dev.kemu.kernel.MultibootMemoryMap.read(ram, info);
            assertEquals(2, kernelView.usable().size(), kernelView.toString());
        }
    }
}
