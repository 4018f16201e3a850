package io.fedtune.trainer.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes safetensors with the header first and tensors in name order, so equal inputs give equal bytes.
 * Either all at once ({@link #write(Path, Map, Map)}) or streamed: {@link #create} writes the header from
 * the specs, then each {@link #write(String, float[])} appends one tensor, in name order.
 */
public final class SafetensorsWriter implements Closeable {
    private static final int CHUNK_BYTES = 16 << 20;
    private final Path path;
    private final FileChannel channel;
    private final List<TensorSpec> specs;
    private int next;

    private SafetensorsWriter(Path path, FileChannel channel, List<TensorSpec> specs) {
        this.path = path;
        this.channel = channel;
        this.specs = specs;
    }

    public static void write(Path path, Map<String, FloatTensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, FloatTensor> sorted = new TreeMap<>(tensors);
        List<TensorSpec> specs = new ArrayList<>();
        sorted.forEach((name, t) -> specs.add(new TensorSpec(name, t.dtype(), t.shape())));
        try (SafetensorsWriter w = create(path, specs, metadata)) {
            for (Map.Entry<String, FloatTensor> e : sorted.entrySet()) {
                w.write(e.getKey(), e.getValue().values());
            }
        }
    }

    public static SafetensorsWriter create(Path path, List<TensorSpec> specs, Map<String, String> metadata) throws IOException {
        List<TensorSpec> sorted = new ArrayList<>(specs);
        sorted.sort(Comparator.comparing(TensorSpec::name));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("tensor " + sorted.get(i).name() + " given twice");
            }
        }
        byte[] header = header(sorted, metadata);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(header.length).put(header).flip();
        writeFully(channel, prefix);
        return new SafetensorsWriter(path, channel, sorted);
    }

    private static byte[] header(List<TensorSpec> sorted, Map<String, String> metadata) {
        ObjectNode root = SafetensorsReader.newObject();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (TensorSpec s : sorted) {
            if (s.name().equals("__metadata__")) {
                throw new IllegalArgumentException("__metadata__ is not a tensor name");
            }
            ObjectNode t = root.putObject(s.name());
            t.put("dtype", s.dtype().name());
            ArrayNode shape = t.putArray("shape");
            Arrays.stream(s.shape()).forEach(shape::add);
            long end = offset + s.byteLength();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        // pad with spaces so the data section starts 8-byte aligned, as the reference writer does
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Appends the next tensor; tensors must come in name order. */
    public void write(String name, float[] values) throws IOException {
        if (next >= specs.size()) {
            throw new IllegalStateException("all " + specs.size() + " tensors already written; got " + name);
        }
        TensorSpec spec = specs.get(next);
        if (!spec.name().equals(name)) {
            throw new IllegalStateException("expected tensor " + spec.name() + " next (name order), got " + name);
        }
        if (values.length != TensorInfo.elementCount(spec.shape())) {
            throw new IllegalArgumentException("tensor " + spec + " needs " + TensorInfo.elementCount(spec.shape())
                    + " values, got " + values.length);
        }
        // through a bounded buffer: no second copy of the tensor on the heap, and tensors of 2 GiB and more fit
        int chunk = CHUNK_BYTES / spec.dtype().bytes();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(spec.byteLength(), (long) chunk * spec.dtype().bytes()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < values.length; done += chunk) {
            buf.clear();
            spec.dtype().encode(values, done, Math.min(chunk, values.length - done), buf);
            buf.flip();
            writeFully(channel, buf);
        }
        next++;
    }

    /** The specs in the order their values must be written. */
    public List<TensorSpec> order() {
        return List.copyOf(specs);
    }

    private static void writeFully(FileChannel channel, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
        if (next != specs.size()) {
            throw new IllegalStateException(path + ": only " + next + " of " + specs.size() + " tensors were written");
        }
    }
}
