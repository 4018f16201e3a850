package io.fedtune.trainer.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void readsAHandWrittenFileWithAllDtypesAndMetadata() throws IOException {
        // F32 [2] = {1.5, -2}; F16 [2] = {1.0 (0x3c00), -0.5 (0xb800)}; BF16 [1] = {3.0 (0x4040)}
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[12,14]}}";
        ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.5f).putFloat(-2f).putShort((short) 0x3c00).putShort((short) 0xb800).putShort((short) 0x4040);
        Path file = raw(header, data.array());

        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertThat(r.names()).containsExactly("a", "b", "h");
            assertThat(r.metadata()).containsEntry("format", "pt");
            assertThat(r.info("h").dtype()).isEqualTo(Dtype.F16);
            assertThat(r.info("h").shape()).containsExactly(1, 2);
            assertThat(r.readFloats("a")).containsExactly(1.5f, -2f);
            assertThat(r.readFloats("h")).containsExactly(1.0f, -0.5f);
            assertThat(r.readFloats("b")).containsExactly(3.0f);
        }
    }

    @Test
    void tensorsLargerThanTheCopyBufferRoundTripInEveryDtype() throws IOException {
        // 16 MiB is the bounded buffer: 4.5M floats span two F32 chunks and a partial third; 9M halves span two
        int n = 4_500_001;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i % 1000) * 0.25f - 100;
        }
        int m = 9_000_003;
        float[] h = new float[m];
        for (int i = 0; i < m; i++) {
            h[i] = (i % 64) - 32;
        }
        Map<String, FloatTensor> tensors = Map.of("big", FloatTensor.f32(v, n),
                "half", new FloatTensor(Dtype.F16, new long[]{m}, h), "brain", new FloatTensor(Dtype.BF16, new long[]{m}, h));
        Path file = dir.resolve("big.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        assertThat(Files.size(file)).isGreaterThan(4L * n + 4L * m);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertThat(r.readFloats("big")).isEqualTo(v);
            assertThat(r.readFloats("half")).isEqualTo(h);
            assertThat(r.readFloats("brain")).isEqualTo(h);
        }
    }

    @Test
    void writtenFilesRoundTripAndAreByteForByteDeterministic() throws IOException {
        Map<String, FloatTensor> forward = new LinkedHashMap<>();
        forward.put("z.weight", FloatTensor.f32(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        forward.put("a.bias", new FloatTensor(Dtype.BF16, new long[]{2}, new float[]{0.5f, -1.25f}));
        forward.put("m.half", new FloatTensor(Dtype.F16, new long[]{3}, new float[]{65504f, 6.1035156e-5f, -0.333251953125f}));
        Map<String, FloatTensor> backward = new LinkedHashMap<>();
        List.of("m.half", "a.bias", "z.weight").forEach(k -> backward.put(k, forward.get(k)));

        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        SafetensorsWriter.write(one, forward, Map.of("format", "pt", "round", "3"));
        SafetensorsWriter.write(two, backward, Map.of("round", "3", "format", "pt"));

        assertThat(Files.readAllBytes(one)).isEqualTo(Files.readAllBytes(two));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(one), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLen % 8).isZero();
        try (SafetensorsReader r = SafetensorsReader.open(one)) {
            assertThat(r.readAll()).isEqualTo(new java.util.TreeMap<>(forward));
            assertThat(r.metadata()).containsEntry("round", "3");
        }
    }

    @Test
    void halfPrecisionConversionRoundsToNearest() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short h = (short) bits;
            float f = HalfFloat.toFloat(h);
            if (!Float.isNaN(f)) {
                assertThat(HalfFloat.fromFloat(f)).as("half 0x%04x", bits).isEqualTo(h);
            }
        }
        assertThat(HalfFloat.toFloat(HalfFloat.fromFloat(1.0f + 1e-4f))).isEqualTo(1.0f);
        assertThat(HalfFloat.toFloat(HalfFloat.fromFloat(1e6f))).isInfinite();
    }

    @Test
    void djlDecodesWhatTheWriterWrites() throws IOException {
        Path file = dir.resolve("x.safetensors");
        SafetensorsWriter.write(file, Map.of("w", FloatTensor.f32(new float[]{1, 2, 3, 4, 5, 6}, 3, 2),
                "v", FloatTensor.f32(new float[]{7}, 1)), Map.of());
        try (NDManager m = NDManager.newBaseManager("PyTorch"); InputStream in = Files.newInputStream(file)) {
            NDList list = NDList.decode(m, in);
            NDArray w = list.get("w");
            assertThat(w.getShape().getShape()).containsExactly(3, 2);
            assertThat(w.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
        }
    }

    @Test
    void streamingWriterInsistsOnNameOrderAndCompleteness() throws IOException {
        Path file = dir.resolve("s.safetensors");
        List<TensorSpec> specs = List.of(new TensorSpec("b", Dtype.F32, new long[]{1}), new TensorSpec("a", Dtype.F32, new long[]{2}));
        SafetensorsWriter w = SafetensorsWriter.create(file, specs, Map.of());
        assertThatThrownBy(() -> w.write("b", new float[]{1})).hasMessageContaining("expected tensor a next");
        w.write("a", new float[]{1, 2});
        assertThatThrownBy(w::close).hasMessageContaining("only 1 of 2");
    }

    @Test
    void refusesBrokenFilesWithClearMessages() throws IOException {
        assertThatThrownBy(() -> SafetensorsReader.open(dir.resolve("missing.safetensors")))
                .hasMessageContaining("missing.safetensors");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[]{1, 2, 3});
        assertThatThrownBy(() -> SafetensorsReader.open(tiny)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("too short");

        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Path hugeHeader = dir.resolve("huge");
        Files.write(hugeHeader, huge.array());
        assertThatThrownBy(() -> SafetensorsReader.open(hugeHeader)).hasMessageContaining("header length");
        // a header within the file but over the cap is refused before it is read: the file is sparse
        Path overCap = dir.resolve("over-cap.safetensors");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(overCap.toFile(), "rw")) {
            f.setLength(SafetensorsReader.MAX_HEADER_BYTES + 64);
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(SafetensorsReader.MAX_HEADER_BYTES + 1).array());
        }
        assertThatThrownBy(() -> SafetensorsReader.open(overCap)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("over-cap.safetensors").hasMessageContaining("over the cap of 100 MiB");

        assertThatThrownBy(() -> SafetensorsReader.open(raw("not json", new byte[0])))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> SafetensorsReader.open(raw(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8])))
                .hasMessageContaining("needs 12 bytes");
        assertThatThrownBy(() -> SafetensorsReader.open(raw(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8])))
                .hasMessageContaining("contiguous");
        assertThatThrownBy(() -> SafetensorsReader.open(raw(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4])))
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> SafetensorsReader.open(raw(
                "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8])))
                .hasMessageContaining("unsupported dtype I64");
        assertThatThrownBy(() -> SafetensorsReader.open(raw(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])))
                .hasMessageContaining("invalid shape");
    }

    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path file = Files.createTempFile(dir, "raw", ".safetensors");
        Files.write(file, buf.array());
        return file;
    }
}
