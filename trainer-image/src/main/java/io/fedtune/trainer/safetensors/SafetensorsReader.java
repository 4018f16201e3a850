package io.fedtune.trainer.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a safetensors file one tensor at a time: only the header is parsed on open, and each
 * {@link #readFloats} reads that tensor's bytes alone, so files larger than the heap can be walked.
 */
public final class SafetensorsReader implements Closeable {
    private static final int CHUNK_BYTES = 16 << 20;
    /** Headers beyond this are refused, as the reference implementation does. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                              Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsReader open(Path path) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "safetensors file not found");
        }
        try {
            return parse(path, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SafetensorsReader parse(Path path, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new SafetensorsFormatException(path + ": " + size + " bytes, too short for a safetensors header");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(path + ": header length " + headerLen + " is over the cap of "
                    + MAX_HEADER_BYTES / (1024 * 1024) + " MiB");
        }
        if (headerLen < 2 || headerLen > size - 8) {
            throw new SafetensorsFormatException(path + ": header length " + headerLen + " out of bounds (file is "
                    + size + " bytes)");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(channel, headerBuf, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SafetensorsFormatException(path + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new SafetensorsFormatException(path + ": header is not a JSON object");
        }
        long dataLen = size - 8 - headerLen;
        Map<String, String> metadata = new TreeMap<>();
        Map<String, TensorInfo> tensors = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                if (!e.getValue().isObject()) {
                    throw new SafetensorsFormatException(path + ": __metadata__ is not an object");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = e.getValue().fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new SafetensorsFormatException(path + ": __metadata__ value " + kv.getKey() + " is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            tensors.put(e.getKey(), tensorInfo(path, e.getKey(), e.getValue()));
        }
        checkLayout(path, tensors, dataLen);
        return new SafetensorsReader(path, channel, 8 + headerLen, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo tensorInfo(Path path, String name, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject() || !node.path("dtype").isTextual() || !node.path("shape").isArray()
                || !node.path("data_offsets").isArray() || node.path("data_offsets").size() != 2) {
            throw new SafetensorsFormatException(path + ": tensor " + name
                    + " needs dtype, shape and two data_offsets");
        }
        Dtype dtype;
        try {
            dtype = Dtype.parse(node.get("dtype").asText());
        } catch (SafetensorsFormatException e) {
            throw new SafetensorsFormatException(path + ": tensor " + name + ": " + e.getMessage());
        }
        long[] shape = new long[node.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get("shape").get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new SafetensorsFormatException(path + ": tensor " + name + " has an invalid shape " + node.get("shape"));
            }
            shape[i] = d.asLong();
        }
        JsonNode b = node.get("data_offsets").get(0);
        JsonNode e = node.get("data_offsets").get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || b.asLong() < 0 || e.asLong() < b.asLong()) {
            throw new SafetensorsFormatException(path + ": tensor " + name + " has invalid data_offsets " + node.get("data_offsets"));
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, b.asLong(), e.asLong());
        long expected;
        try {
            expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
        } catch (ArithmeticException ex) {
            throw new SafetensorsFormatException(path + ": tensor " + name + " shape overflows");
        }
        if (expected != info.byteLength()) {
            throw new SafetensorsFormatException(path + ": tensor " + info + " needs " + expected + " bytes but its offsets span "
                    + info.byteLength());
        }
        return info;
    }

    private static void checkLayout(Path path, Map<String, TensorInfo> tensors, long dataLen) throws SafetensorsFormatException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long cursor = 0;
        for (TensorInfo t : byOffset) {
            if (t.begin() != cursor) {
                throw new SafetensorsFormatException(path + ": tensor " + t.name() + " starts at " + t.begin()
                        + " but the previous data ends at " + cursor + " (data must be contiguous, without overlap)");
            }
            cursor = t.end();
        }
        if (cursor != dataLen) {
            throw new SafetensorsFormatException(path + ": tensors cover " + cursor + " data bytes but the file holds "
                    + dataLen + (cursor > dataLen ? " (truncated file?)" : " (trailing bytes)"));
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = channel.read(buf, position + buf.position());
            if (n < 0) {
                throw new SafetensorsFormatException("unexpected end of file");
            }
        }
        buf.flip();
    }

    public Path path() {
        return path;
    }

    /** Tensor names, sorted. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) throws SafetensorsFormatException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsFormatException(path + ": no tensor named " + name);
        }
        return info;
    }

    /** The {@code __metadata__} string map, empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Decodes the tensor through a bounded buffer, so reading it takes its float[] and no more on the heap (not twice
     * that) and tensors of 2 GiB and more (Phi-4-mini's float32 embedding) can be read.
     */
    public float[] readFloats(String name) throws IOException {
        TensorInfo info = info(name);
        if (info.elementCount() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsFormatException(path + ": tensor " + name + " has " + info.elementCount()
                    + " elements, more than a Java array holds");
        }
        int count = (int) info.elementCount();
        float[] out = new float[count];
        int width = info.dtype().bytes();
        int chunk = CHUNK_BYTES / width;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(info.byteLength(), (long) chunk * width)).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            buf.clear().limit(n * width);
            readFully(channel, buf, dataStart + info.begin() + (long) done * width);
            info.dtype().decode(buf, out, done, n);
        }
        return out;
    }

    /** count values of a tensor from element first on (row-major), so a large tensor can be read in blocks. */
    public float[] readFloats(String name, long first, int count) throws IOException {
        TensorInfo info = info(name);
        if (first < 0 || count < 0 || first + count > info.elementCount()) {
            throw new IllegalArgumentException("elements " + first + " .. " + (first + count) + " outside tensor " + info);
        }
        int width = info.dtype().bytes();
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(count, width)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, buf, dataStart + info.begin() + first * width);
        return info.dtype().decode(buf, count);
    }

    public FloatTensor read(String name) throws IOException {
        TensorInfo info = info(name);
        return new FloatTensor(info.dtype(), info.shape(), readFloats(name));
    }

    /** Reads every tensor; for small files such as adapters. */
    public Map<String, FloatTensor> readAll() throws IOException {
        Map<String, FloatTensor> all = new TreeMap<>();
        for (String name : tensors.keySet()) {
            all.put(name, read(name));
        }
        return all;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static ObjectNode newObject() {
        return JSON.createObjectNode();
    }

    static ObjectMapper json() {
        return JSON;
    }
}
