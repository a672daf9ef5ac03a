/**
 * Kernel memory services over guest RAM: frames, page tables, virtual areas, demand paging.
 *
 * <p>One failure convention here and in {@code kernel.slab}: an allocation returns an
 * {@code Optional} of the typed address ({@code PhysAddr} for frames, {@code VirtAddr} for
 * everything mapped), empty when there is no room; an operation that can be refused for
 * several reasons returns a result enum ({@link dev.kemu.kernel.mm.FreeResult},
 * {@link dev.kemu.kernel.mm.MapResult}) whose constants name the reason and no errno; a broken
 * invariant of the metadata is a {@link dev.kemu.kernel.mm.KernelPanic}. Only the hypercall
 * face ({@code KernelServices}) turns results into errno values.
 */
package dev.kemu.kernel.mm;
