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
        decode(buf, out, 0, count);
        return out;
    }

    /** Reads count elements from a little-endian buffer into out from offset on. */
    void decode(ByteBuffer buf, float[] out, int offset, int count) {
        switch (this) {
            case F32 -> buf.asFloatBuffer().get(out, offset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = HalfFloat.toFloat(buf.getShort(buf.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = Float.intBitsToFloat((buf.getShort(buf.position() + 2 * i) & 0xffff) << 16);
                }
            }
        }
    }

    void encode(float[] values, ByteBuffer buf) {
        encode(values, 0, values.length, buf);
    }

    /** Writes count values from offset on into the buffer at its position, advancing it. */
    void encode(float[] values, int offset, int count, ByteBuffer buf) {
        switch (this) {
            case F32 -> {
                // one bulk copy in the buffer's byte order, as putFloat would write each value
                buf.asFloatBuffer().put(values, offset, count);
                buf.position(buf.position() + Float.BYTES * count);
            }
            case F16 -> {
                for (int i = offset; i < offset + count; i++) {
                    buf.putShort(HalfFloat.fromFloat(values[i]));
                }
            }
            case BF16 -> {
                for (int i = offset; i < offset + count; i++) {
                    buf.putShort(toBf16(values[i]));
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
