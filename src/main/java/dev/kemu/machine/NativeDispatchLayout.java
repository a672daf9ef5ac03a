package dev.kemu.machine;

import dev.kemu.nativelib.NativeLibraryException;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;

/**
 * Checks a Java {@link StructLayout} against the table of offsets the C library exports for the
 * same struct ({@code <name>_layout}: size, then each field's offset in declaration order, and
 * {@code <name>_layout_length}). A library built from another version of the C source is
 * refused with the first field that differs, instead of writing pointers into wrong slots.
 */
final class NativeDispatchLayout {
    private NativeDispatchLayout() {}

    static void check(SymbolLookup library, String source, StructLayout layout) {
        String name = layout.name().orElseThrow();
        MemorySegment lengthSymbol = library.find(name + "_layout_length").orElseThrow(() -> stale(source, name,
                "it exports no " + name + "_layout"));
        MemorySegment table = library.find(name + "_layout").orElseThrow(() -> stale(source, name,
                "it exports no " + name + "_layout"));
        int length = lengthSymbol.reinterpret(4).get(ValueLayout.JAVA_INT, 0);
        int[] native_ = table.reinterpret(4L * length).toArray(ValueLayout.JAVA_INT);
        var fields = layout.memberLayouts().stream().filter(m -> m.name().isPresent()).toList();
        if (native_.length != fields.size() + 1) {
            throw stale(source, name, "its struct has " + (native_.length - 1) + " fields, this kemu's "
                    + fields.size());
        }
        if (native_[0] != layout.byteSize()) {
            throw stale(source, name, "its struct is " + native_[0] + " bytes, this kemu's " + layout.byteSize());
        }
        for (int i = 0; i < fields.size(); i++) {
            String field = fields.get(i).name().orElseThrow();
            long offset = layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
            if (native_[i + 1] != offset) {
                throw stale(source, name, "field " + field + " is at +" + native_[i + 1] + " there, +" + offset
                        + " here");
            }
        }
    }

    private static NativeLibraryException stale(String source, String struct, String difference) {
        return new NativeLibraryException("libkemu_hooks at " + source + " was built from another kemu_hooks.c ("
                + struct + ": " + difference + "); run `make natives` to rebuild it");
    }
}
