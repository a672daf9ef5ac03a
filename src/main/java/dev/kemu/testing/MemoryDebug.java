package dev.kemu.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Boots the test class's machine with kemu's memory debug modes, as {@code kemu boot --slub-debug=...
 * --kasan} does (docs/slub-debug.md, docs/kasan.md):
 *
 * <pre>{@code
 * @ExtendWith(KemuExtension.class)
 * @MemoryDebug(slub = "FZPU", kasan = true)
 * class MyAllocatorTest { ... }
 * }</pre>
 *
 * The modes take effect when the kernel initialises its memory services (HC_MM_INIT), which is before the
 * snapshot, so each distinct set of modes gets a machine and a snapshot of its own. A run's findings are in
 * {@link GuestRun#slubReports()} and {@link GuestRun#kasanReports()}; only {@link GuestRun#assertNoMemoryErrors()}
 * fails a test for them. Combines with {@link KemuKernel} for a kernel of the user's own that calls HC_MM_INIT.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface MemoryDebug {
    /** {@code --slub-debug}'s value: mode letters of F, Z, P, U, then optionally {@code ,cache,...}; empty: off. */
    String slub() default "";

    /** {@code --kasan}: bad accesses to slab objects and vmalloc guard pages reported at the instruction. */
    boolean kasan() default false;
}
