package dev.kemu.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * JUnit 5 extension that gives each test a {@link Guest} on a machine restored from the
 * booted-kernel snapshot. The kernel is kemu's bundled one, or the user's own named by
 * {@link KemuKernel} on the test class or by {@code kemu.properties} on the test class path.
 * Machines are made once per thread, kernel and {@link MemoryDebug} modes (tests may run in parallel,
 * one engine per thread; machines with different modes never share a snapshot) and kept in the root store, which closes them after the run. A failing test's
 * message gets the last run's fault report and recent trace appended, and its memory picture is written
 * next to the surefire reports ({@link FailurePicture}).
 */
public final class KemuExtension implements ParameterResolver, TestExecutionExceptionHandler {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KemuExtension.class);

    /** What a machine is booted from: the kernel (empty: kemu's bundled one) and the memory debug modes. */
    record MachineKey(Optional<KernelUnderTest> kernel, MemoryModes modes) {
    }

    /** One TestMachine per thread and {@link MachineKey}, closed with the root context. */
    static final class Machines implements ExtensionContext.Store.CloseableResource {
        private final ThreadLocal<Map<MachineKey, TestMachine>> perThread = ThreadLocal.withInitial(HashMap::new);
        private final List<TestMachine> all = new ArrayList<>();

        TestMachine current(MachineKey key) {
            TestMachine machine = perThread.get().get(key);
            if (machine == null || machine.abandoned()) { // a run overran its wall-clock limit: start afresh
                machine = key.kernel().map(kernel -> new TestMachine(kernel, key.modes()))
                        .orElseGet(() -> new TestMachine(key.modes()));
                perThread.get().put(key, machine);
                synchronized (all) {
                    all.add(machine);
                }
            }
            return machine;
        }

        @Override
        public void close() {
            synchronized (all) {
                all.forEach(TestMachine::close);
                all.clear();
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Guest.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Machines machines = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Machines.class,
                key -> new Machines(), Machines.class);
        try {
            Guest guest = new Guest(machines.current(new MachineKey(kernelOf(context), modesOf(context))));
            context.getStore(NAMESPACE).put(Guest.class, guest);
            return guest;
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("cannot prepare a booted kemu machine: " + e.getMessage(), e);
        }
    }

    /** The kernel the test class asks for: {@link KemuKernel} (on it or an enclosing class), else kemu.properties. */
    static Optional<KernelUnderTest> kernelOf(ExtensionContext context) {
        for (Class<?> type = context.getRequiredTestClass(); type != null; type = type.getEnclosingClass()) {
            KemuKernel annotation = type.getAnnotation(KemuKernel.class);
            if (annotation != null) {
                return Optional.of(KernelUnderTest.of(annotation));
            }
        }
        return KernelUnderTest.fromProperties(context.getRequiredTestClass().getClassLoader());
    }

    /**
     * The memory debug modes the test class asks for: {@link MemoryDebug} on it or an enclosing class, else none of
     * its own (a suite-wide {@code -Dkemu.memoryDebug} then applies).
     */
    static MemoryModes modesOf(ExtensionContext context) {
        for (Class<?> type = context.getRequiredTestClass(); type != null; type = type.getEnclosingClass()) {
            MemoryDebug annotation = type.getAnnotation(MemoryDebug.class);
            if (annotation != null) {
                return MemoryModes.of(annotation, type);
            }
        }
        return MemoryModes.NONE;
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        Guest guest = context.getStore(NAMESPACE).get(Guest.class, Guest.class);
        if (guest == null || guest.lastRun() == null || !(throwable instanceof AssertionError)) {
            throw throwable;
        }
        String picture = FailurePicture.write(guest.lastRun(), context.getRequiredTestClass().getSimpleName(),
                context.getRequiredTestMethod().getName()).map(line -> line + "\n").orElse("");
        AssertionError detailed = new AssertionError(throwable.getMessage() + "\n" + guest.lastRun().describe() + picture,
                throwable);
        detailed.setStackTrace(throwable.getStackTrace());
        throw detailed;
    }
}
