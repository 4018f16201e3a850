package io.fedtune.trainer.safetensors;

import java.util.Arrays;

/**
 * One tensor's header entry. Offsets are relative to the start of the data section.
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {

    public long elementCount() {
        return elementCount(shape);
    }

    public long byteLength() {
        return end - begin;
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
