package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * kemu's own kernel booted once per test run with the default options, for the test classes that
 * only read what the boot left behind (stages, page tables): a parameter of their {@code @BeforeAll}
 * with {@code @ExtendWith(BootedDefaultKernel.Resolver.class)}. Kept in JUnit's root store, so it
 * is closed when the run ends. Tests must not run the machine or change guest RAM.
 */
final class BootedDefaultKernel implements ExtensionContext.Store.CloseableResource {
    private final KernelBoot boot;
    private final BootReport report;

    private BootedDefaultKernel() {
        boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults());
        report = boot.run();
    }

    KernelBoot boot() {
        return boot;
    }

    BootReport report() {
        return report;
    }

    /** Where a kernel symbol lies in physical memory (the image is loaded at VMA - KERNEL_VMA). */
    long physicalOf(String symbol) {
        long address = boot.symbols().address(symbol);
        return Long.compareUnsigned(address, GuestAbi.KERNEL_VMA) >= 0 ? address - GuestAbi.KERNEL_VMA : address;
    }

    /** Entry {@code index} of the page table at physical {@code table}. */
    long tableEntry(long table, int index) {
        return boot.machine().ram().read64(table + 8L * index);
    }

    @Override
    public void close() {
        boot.close();
    }

    /** Supplies the one booted kernel of this test run. */
    static final class Resolver implements ParameterResolver {
        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Resolver.class);

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == BootedDefaultKernel.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            synchronized (Resolver.class) {
                return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(BootedDefaultKernel.class,
                        key -> new BootedDefaultKernel(), BootedDefaultKernel.class);
            }
        }
    }
}
