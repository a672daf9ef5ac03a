package dev.kemu.gdb;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real gdb against kemu's own kernel on two CPUs: gdb's threads are the CPUs, all-stop. */
class GdbThreadsTest {
    @TempDir
    static Path dir;
    private static KernelSources.BuiltImages images;

    @BeforeAll
    static void build() throws Exception {
        GdbBatch.assumeGdbInstalled();
        images = TestKernels.defaultKernel();
    }

    @Test
    void twoCpus_areTwoThreads_andAnApOnlyBreakpointStopsThread2_whileThread1HasItsOwnRegisters() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images, BootOptions.defaults().withCpus(2))) {
            String out = GdbBatch.run(dir, images.kernel(), stub.port(), """
                    info threads
                    break ap_higher_half
                    continue
                    printf "stopped in thread %d at %#lx\\n", $_thread, $pc
                    info threads
                    thread 1
                    printf "thread 1 rip=%#lx\\n", $rip
                    thread 2
                    printf "thread 2 rip=%#lx\\n", $rip
                    stepi
                    printf "after stepi thread %d rip=%#lx\\n", $_thread, $rip
                    delete
                    continue
                    """);
            assertTrue(out.contains("CPU 1 (AP), waiting for STARTUP"), "before the boot cpu1 waits for STARTUP: " + out);
            assertTrue(out.contains("CPU 0 (BSP), runnable"), out);
            long apEntry = symbol(out, images, "ap_higher_half");
            Matcher stop = Pattern.compile("stopped in thread (\\d+) at (0x[0-9a-f]+)").matcher(out);
            assertTrue(stop.find(), out);
            assertEquals("2", stop.group(1), "the AP's breakpoint names thread 2 (cpu1): " + out);
            assertEquals(apEntry, Long.parseUnsignedLong(stop.group(2).substring(2), 16), out);
            assertTrue(out.contains("CPU 1 (AP), runnable"), "cpu1 was started by then: " + out);
            long bspRip = hex(out, "thread 1 rip=(0x[0-9a-f]+)"), apRip = hex(out, "thread 2 rip=(0x[0-9a-f]+)");
            assertEquals(apEntry, apRip, out);
            assertNotEquals(bspRip, apRip, "cpu0 is somewhere else in the all-stop: " + out);
            assertEquals(2, hex(out, "after stepi thread (\\d+)"), "stepi steps the selected thread: " + out);
            assertTrue(hex(out, "after stepi thread \\d+ rip=(0x[0-9a-f]+)") != apEntry, out);
            assertTrue(out.contains("exited normally") || out.contains("exited with code"),
                    "continue ran every CPU on to the guest's exit: " + out);
        }
    }

    private static long hex(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertTrue(m.find(), regex + " in: " + out);
        String v = m.group(1);
        return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }

    private static long symbol(String out, KernelSources.BuiltImages images, String name) { // out: for the message
        return dev.kemu.elf.ElfImage.read(images.kernel()).symbols().address(name);
    }
}
