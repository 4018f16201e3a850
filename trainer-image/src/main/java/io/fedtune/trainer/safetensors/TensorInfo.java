package io.fedtune.trainer.safetensors;

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

    /** Name, dtype and shape, without the offsets. */
    public TensorSpec spec() {
        return new TensorSpec(name, dtype, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && spec().equals(t.spec()) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return spec().hashCode();
    }

    @Override
    public String toString() {
        return spec().toString();
    }
}
