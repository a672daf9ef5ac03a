package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.devices.DebugConsole;
import dev.kemu.machine.devices.ExitPort;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The constants the guest assembles with must be the ones Java dispatches on. */
class GuestAbiTest {
    private static Map<String, Long> assemblyConstants() throws Exception {
        String text = Files.readString(KernelSources.home().resolve("kernel-asm/include/kemu.inc"));
        Matcher m = Pattern.compile("(?m)^\\.set\\s+(\\w+),\\s*(0x[0-9a-fA-F]+|\\d+)").matcher(text);
        Map<String, Long> constants = new HashMap<>();
        while (m.find()) {
            String value = m.group(2);
            constants.put(m.group(1), value.startsWith("0x") ? Long.parseUnsignedLong(value.substring(2), 16)
                    : Long.parseLong(value));
        }
        return constants;
    }

    @Test
    void kemuInc_matchesJavaConstants() throws Exception {
        Map<String, Long> asm = assemblyConstants();
        assertEquals(GuestAbi.KERNEL_VMA, asm.get("KERNEL_VMA"));
        assertEquals(GuestAbi.HYPERCALL_PORT, asm.get("HYPERCALL_PORT"));
        assertEquals(DebugConsole.PORT, asm.get("DEBUGCON_PORT"));
        assertEquals(ExitPort.PORT, asm.get("EXIT_PORT"));
        assertEquals(GuestAbi.KEMU_MAGIC, asm.get("KEMU_MAGIC"));
        assertEquals(GuestAbi.HC_PROBE, asm.get("HC_PROBE"));
        assertEquals(GuestAbi.MULTIBOOT_HEADER_MAGIC, asm.get("MULTIBOOT_HEADER_MAGIC"));
        assertEquals(GuestAbi.MULTIBOOT_BOOTLOADER_MAGIC, asm.get("MULTIBOOT_BOOTLOADER_MAGIC"));
    }
}
