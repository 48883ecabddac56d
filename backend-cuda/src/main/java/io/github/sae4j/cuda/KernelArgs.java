package io.github.sae4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel's arguments in the order and C types of its signature: {@link #ptr} for pointers, {@link #i64} for
 * {@code long long}, {@link #i32} for {@code int}, {@link #f32} for {@code float}. cuLaunchKernel takes them as a
 * {@code void**} array of pointers to each value.
 */
final class KernelArgs {

    private final List<Object> values = new ArrayList<>();

    /** A device pointer (0 for null). */
    KernelArgs ptr(long devicePointer) {
        values.add(devicePointer);
        return this;
    }

    KernelArgs i64(long value) {
        values.add(value);
        return this;
    }

    KernelArgs i32(int value) {
        values.add(value);
        return this;
    }

    KernelArgs f32(float value) {
        values.add(value);
        return this;
    }

    int count() {
        return values.size();
    }

    /** The {@code void**} array, its values allocated in {@code arena}. */
    MemorySegment build(Arena arena) {
        MemorySegment array = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            MemorySegment value = switch (values.get(i)) {
                case Long l -> arena.allocateFrom(JAVA_LONG, l);
                case Integer n -> arena.allocateFrom(JAVA_INT, n);
                case Float f -> arena.allocateFrom(JAVA_FLOAT, f);
                default -> throw new IllegalStateException("unsupported kernel argument " + values.get(i));
            };
            array.setAtIndex(ADDRESS, i, value);
        }
        return array;
    }

    /** The argument sizes in bytes, in order (for tests). */
    int[] sizes() {
        int[] s = new int[values.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = values.get(i) instanceof Long ? 8 : 4;
        }
        return s;
    }
}
