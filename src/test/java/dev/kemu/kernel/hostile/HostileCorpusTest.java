package dev.kemu.kernel.hostile;

import dev.kemu.fuzz.FuzzCorpus;
import dev.kemu.fuzz.HypercallScript;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.PageTableEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The crashes, panics and hangs random hypercall sequences found (issue 11, defects 4-7),
 * replayed against a booted kernel. Each repro asserts what the services must answer; after
 * each one every metadata checker must be clean. Repros run on one worker thread with a
 * wall-clock limit, because one of them used to loop forever inside Java.
 */
class HostileCorpusTest {
    private static final long TWO_MIB = 2L << 20;

    private static ExecutorService worker;
    private static HypercallDriver driver;

    @BeforeAll
    static void boot() throws Exception {
        worker = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "hostile-corpus");
            thread.setDaemon(true); // a repro that hangs must not keep the JVM alive
            return thread;
        });
        driver = worker.submit(HypercallDriver::new).get();
    }

    @AfterAll
    static void shutDown() throws Exception {
        worker.submit(driver::close).get(10, TimeUnit.SECONDS);
        worker.shutdown();
    }

    static Stream<Arguments> corpus() {
        return Stream.of(
                repro("destroying a kmalloc cache is refused and kmalloc keeps working", d -> {
                    int kmalloc32 = d.memory().root().kmallocFirstCache() + 2;
                    assertEquals(EPERM, d.call(HC_CACHE_DESTROY, kmalloc32));
                    assertFalse(isError(d.call(HC_KMALLOC, 20, 0)), "kmalloc(20) after the refused destroy");
                }),
                repro("destroying the vm_area cache is refused", d ->
                        assertEquals(EPERM, d.call(HC_CACHE_DESTROY, d.memory().root().vmAreaCache()))),
                repro("allocating from or freeing into kmalloc-8 through the cache calls is refused", d -> {
                    int kmalloc8 = d.memory().root().kmallocFirstCache();
                    long object = d.call(HC_KMALLOC, 8, 0);
                    assertEquals(EPERM, d.call(HC_CACHE_ALLOC, kmalloc8, 0));
                    assertEquals(EPERM, d.call(HC_CACHE_FREE, kmalloc8, object));
                    assertEquals(0, d.call(HC_KFREE, object));
                }),
                repro("freeing the live vm_area node, then reserving twice, neither loops nor corrupts", d -> {
                    long va = d.call(HC_VMA_RESERVE, 4096, PageTableEntry.WRITABLE);
                    assertFalse(isError(va));
                    long node = d.memory().root().vmaListHead().value();
                    assertEquals(EPERM, d.call(HC_CACHE_FREE, d.memory().root().vmAreaCache(), node));
                    assertEquals(EINVAL, d.call(HC_KFREE, node), "kfree of a vm_area node");
                    assertFalse(isError(d.call(HC_VMA_RESERVE, 4096, 0)));
                    assertFalse(isError(d.call(HC_VMA_RESERVE, 4096, 0)));
                    assertEquals(0, d.call(HC_VMA_RELEASE, va));
                }),
                repro("vmunmap of a vmalloc page is refused and vfree still works", d -> {
                    long va = d.call(HC_VMALLOC, 4096);
                    assertFalse(isError(va));
                    assertEquals(EBUSY, d.call(HC_VMUNMAP, va, 4096));
                    assertEquals(0, d.call(HC_VFREE, va));
                }),
                repro("vmmap into the vmalloc range is refused, so a VMA over it releases cleanly", d -> {
                    assertEquals(EBUSY, d.call(HC_VMMAP, 0xffffc90000005000L, 0x1206000, PageTableEntry.WRITABLE));
                    long va = d.call(HC_VMA_RESERVE, 1 << 20, PageTableEntry.WRITABLE);
                    assertFalse(isError(va));
                    assertEquals(0, d.call(HC_VMA_RELEASE, va));
                }),
                repro("a 2 MiB vmunmap reaching into the vmalloc range is refused", d -> {
                    long va = d.call(HC_VMALLOC, 4096);
                    assertEquals(EBUSY, d.call(HC_VMUNMAP, va, TWO_MIB));
                    assertEquals(EBUSY, d.call(HC_VMMAP, va & -TWO_MIB, 0, PageTableEntry.WRITABLE | MAP_HUGE));
                    assertEquals(0, d.call(HC_VFREE, va));
                }),
                repro("unmapping the whole identity map never frees the page directory the kernel half shares", d -> {
                    long bootPd = d.machine().boot().symbols().address("boot_pd");
                    for (long i = 0; i < 512; i++) {
                        // The kernel drops the boot identity map in the higher half, so today there is
                        // nothing to unmap (-EFAULT); a kernel that kept it gets each range unmapped.
                        long result = d.call(HC_VMUNMAP, i * TWO_MIB, TWO_MIB);
                        assertTrue(result == i * TWO_MIB || result == EFAULT, "HC_VMUNMAP returned " + result);
                    }
                    // The same page directory maps the kernel image at 0xffffffff80000000 (PDPT slot 510).
                    for (long i = 0; i < 512; i++) {
                        long result = d.call(HC_VMUNMAP, 0xffffffff80000000L + i * TWO_MIB, TWO_MIB);
                        assertTrue(result == i * TWO_MIB || result == EFAULT, "kernel alias HC_VMUNMAP returned " + result);
                    }
                    MmRoot root = d.memory().root();
                    assertEquals(FrameType.PAGE_TABLE, FrameTable.of(root).type(bootPd / 4096));
                    for (int i = 0; i < 64; i++) {
                        assertNotEquals(bootPd, d.call(HC_FRAME_ALLOC, 0, ALLOC_ZERO));
                    }
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void repro_isRefusedOrHandled_andLeavesConsistentMetadata(String name, Consumer<HypercallDriver> repro)
            throws Exception {
        Future<?> run = worker.submit(() -> {
            driver.reset();
            try {
                repro.accept(driver);
                assertEquals(List.of(), driver.memory().check());
                assertDoesNotThrow(() -> driver.memory().slabs().info());
            } catch (Throwable t) {
                throw new AssertionError(name + " failed after:\n" + driver.transcript(), t);
            }
        });
        try {
            run.get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("the services did not answer within 30 s (a walk of guest metadata loops?) after:\n"
                    + driver.transcript());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    static Stream<Arguments> corpusFiles() {
        return FuzzCorpus.files("hypercalls", ".txt").stream().map(file -> Arguments.of(file.getFileName().toString(), file));
    }

    /** The text reproductions of {@code fuzz-corpus/hypercalls}: the repros and what campaigns found. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("corpusFiles")
    void corpusFile_replaysWithItsExpectations_andLeavesConsistentMetadata(String name, Path file) throws Exception {
        HypercallScript script = HypercallScript.parse(name, FuzzCorpus.read(file));
        repro_isRefusedOrHandled_andLeavesConsistentMetadata(name, d -> script.replay(d::call, named(d)));
    }

    /** The kernel values a script may name with {@code $name}; all of them a guest can learn. */
    private static Map<String, LongSupplier> named(HypercallDriver d) {
        MmRoot root = d.memory().root();
        return Map.of(
                "vm_area_cache", root::vmAreaCache,
                "kmalloc_cache", root::kmallocFirstCache,
                "vma_list_head", () -> root.vmaListHead().value(),
                "pml4", () -> root.pml4().value(),
                "direct_map", () -> root.directMapBase().value(),
                "boot_pd", () -> d.machine().boot().symbols().address("boot_pd"));
    }

    private static Arguments repro(String name, Consumer<HypercallDriver> steps) {
        return Arguments.of(name, steps);
    }

    static boolean isError(long result) {
        return result < 0 && result >= -4095;
    }
}
