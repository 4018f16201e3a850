package io.fedtune.trainer.safetensors;

import java.nio.ByteBuffer;

/** The element types this project reads and writes as floats. */
public enum Dtype {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public static Dtype parse(String name) throws SafetensorsFormatException {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new SafetensorsFormatException("unsupported dtype " + name + " (supported: F32, F16, BF16)");
    }

    /** Reads count elements from a little-endian buffer. */
    float[] decode(ByteBuffer buf, int count) {
        float[] out = new float[count];
        switch (this) {
            case F32 -> buf.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = HalfFloat.toFloat(buf.getShort(buf.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((buf.getShort(buf.position() + 2 * i) & 0xffff) << 16);
                }
            }
        }
        return out;
    }

    void encode(float[] values, ByteBuffer buf) {
        switch (this) {
            case F32 -> {
                // one bulk copy in the buffer's byte order, as putFloat would write each value
                buf.asFloatBuffer().put(values);
                buf.position(buf.position() + Float.BYTES * values.length);
            }
            case F16 -> {
                for (float v : values) {
                    buf.putShort(HalfFloat.fromFloat(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    buf.putShort(toBf16(v));
                }
            }
        }
    }

    private static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        // round to nearest, ties to even
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
