package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.aggregate.combine.LoraFactors;
import io.fedtune.trainer.aggregate.combine.ProductNorm;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks one shard's update before it may count: SHA-256 against what the trainer reported and its manifest lists,
 * a well-formed safetensors file and adapter_config.json, tensor names, shapes and rank as the run expects, every value
 * finite; and measures the update's norm. The file is read once, sequentially, hashing and checking as it goes.
 */
public final class UpdateVerifier {
    /** Which part of an adapter makes up "the update" whose norm is measured. */
    public enum NormOf {
        /** All factors, coordinate-wise against the previous global adapter (FedAvg). */
        FACTORS,
        /** B only: A is frozen and shared (FFA). */
        B_FACTORS,
        /** The weight update s·B·A against the previous global one (ExactProduct). */
        PRODUCT
    }

    private final AdapterLayout layout;
    private final Integer requiredRank;
    private final NormOf normOf;
    private final GlobalAdapter previous;

    /**
     * @param requiredRank the rank every update must have, or null where ranks may differ (heterogeneous LoRA)
     * @param previous     the adapter the round started from, or null in the first round
     */
    public UpdateVerifier(AdapterLayout layout, Integer requiredRank, NormOf normOf, GlobalAdapter previous) {
        this.layout = layout;
        this.requiredRank = requiredRank;
        this.normOf = normOf;
        this.previous = previous;
    }

    public VerifiedUpdate verify(OfferedUpdate offered) throws UpdateRefused, IOException {
        try (Inspection inspection = inspect(offered)) {
            inspection.readInFileOrder();
            return inspection.verdict();
        }
    }

    /**
     * Opens an update and makes the checks its header allows; its bytes must then all pass through
     * {@link Inspection#hash} (in file order) and its tensors through {@link Inspection#check} before
     * {@link Inspection#verdict}.
     *
     * @throws UpdateRefused where no file or no expected SHA-256 leaves nothing to check against
     */
    public Inspection inspect(OfferedUpdate offered) throws UpdateRefused, IOException {
        Path dir = offered.dir();
        Path weights = dir.resolve(Adapter.WEIGHTS_FILE);
        if (!Files.isRegularFile(weights) || !Files.isRegularFile(dir.resolve(AdapterConfig.FILE))) {
            throw new UpdateRefused(RefusalReason.Missing, "no " + Adapter.WEIGHTS_FILE + " and " + AdapterConfig.FILE
                    + " in " + dir);
        }
        String expected = expectedSha256(offered);
        UpdateRefused problem = null;
        SafetensorsReader reader = null;
        try {
            reader = SafetensorsReader.open(weights);
        } catch (IOException e) {
            problem = new UpdateRefused(RefusalReason.Malformed, "not a readable safetensors file: " + e.getMessage());
        }
        int rank = -1;
        AdapterConfig config = null;
        FileChannel channel = null;
        try {
            if (reader != null) {
                try {
                    rank = checkNamesAndShapes(reader, offered);
                } catch (UpdateRefused r) {
                    problem = r;
                }
            }
            try {
                config = AdapterConfig.read(dir);
            } catch (IOException | IllegalArgumentException e) {
                if (problem == null) {
                    problem = new UpdateRefused(RefusalReason.Malformed, e.getMessage());
                }
            }
            channel = FileChannel.open(weights, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            if (reader != null) {
                reader.close();
            }
            throw e;
        }
        return new Inspection(offered, weights, expected, reader, channel, problem, config, rank);
    }

    /** What the trainer reported, cross-checked with the shard's manifest.json where it lists the file. */
    private static String expectedSha256(OfferedUpdate offered) throws UpdateRefused, IOException {
        String reported = offered.sha256();
        Path manifest = offered.dir().resolve("manifest.json");
        String listed = null;
        if (Files.isRegularFile(manifest)) {
            try {
                JsonNode files = ContractJson.mapper().readTree(Files.readString(manifest, StandardCharsets.UTF_8))
                        .path("files");
                if (files.path(Adapter.WEIGHTS_FILE).isTextual()) {
                    listed = files.get(Adapter.WEIGHTS_FILE).asText();
                }
            } catch (IOException e) {
                throw new UpdateRefused(RefusalReason.Malformed, "manifest.json is not valid JSON: " + e.getMessage());
            }
        }
        if (reported != null && listed != null && !reported.equalsIgnoreCase(listed)) {
            throw new UpdateRefused(RefusalReason.ChecksumMismatch, "the shard reported SHA-256 " + reported
                    + " but its manifest.json lists " + listed);
        }
        String expected = reported != null ? reported : listed;
        if (expected == null) {
            throw new UpdateRefused(RefusalReason.ChecksumMismatch, "no SHA-256 reported for " + Adapter.WEIGHTS_FILE);
        }
        return expected;
    }

    /** Returns the update's rank. */
    private int checkNamesAndShapes(SafetensorsReader reader, OfferedUpdate offered) throws UpdateRefused, IOException {
        List<String> expectedNames = new ArrayList<>();
        for (AdapterLayout.Module m : layout.modules()) {
            expectedNames.add(m.aName());
            expectedNames.add(m.bName());
        }
        List<String> names = reader.names();
        if (!names.equals(expectedNames.stream().sorted().toList())) {
            List<String> missing = new ArrayList<>(expectedNames);
            missing.removeAll(names);
            List<String> extra = new ArrayList<>(names);
            extra.removeAll(expectedNames);
            throw new UpdateRefused(RefusalReason.WrongShape, "tensors differ from the run's layout: missing "
                    + abbreviate(missing) + ", unexpected " + abbreviate(extra));
        }
        int rank = (int) reader.info(layout.modules().get(0).aName()).shape()[0];
        for (AdapterLayout.Module m : layout.modules()) {
            long[] a = reader.info(m.aName()).shape();
            long[] b = reader.info(m.bName()).shape();
            if (a.length != 2 || b.length != 2 || a[1] != m.in() || b[0] != m.out()) {
                throw new UpdateRefused(RefusalReason.WrongShape, m.aName() + " " + Arrays.toString(a) + " / lora_B "
                        + Arrays.toString(b) + ", the model needs [r, " + m.in() + "] and [" + m.out() + ", r]");
            }
            if (a[0] != rank || b[1] != rank) {
                throw new UpdateRefused(RefusalReason.WrongRank, m.aName() + " has rank " + a[0] + "/" + b[1]
                        + ", other modules rank " + rank);
            }
        }
        if (requiredRank != null && rank != requiredRank) {
            throw new UpdateRefused(RefusalReason.WrongRank, "rank " + rank + ", the run's rank is " + requiredRank);
        }
        if (rank != offered.rank()) {
            throw new UpdateRefused(RefusalReason.WrongRank, "rank " + rank + ", the shard reported " + offered.rank());
        }
        return rank;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 3 ? names.toString() : names.subList(0, 3) + " and " + (names.size() - 3) + " more";
    }

    /** One update under verification: SHA-256 of every byte in file order, the checks of every tensor, the norm. */
    public final class Inspection implements Closeable {
        private final OfferedUpdate offered;
        private final Path weights;
        private final String expected;
        private final SafetensorsReader reader;
        private final FileChannel channel;
        private final UpdateRefused problem;
        private final AdapterConfig config;
        /** The tensors' rank, or -1 where the header already failed a check: then the file is only hashed. */
        private final int rank;
        private final double scale;
        private final MessageDigest sha = sha256();
        private long hashed;
        private double squaredNorm;
        private String nonFinite;
        private final Map<String, float[]> pendingFactors = new HashMap<>();
        private final Map<String, byte[]> aDigests = new TreeMap<>();
        private final Map<String, AdapterLayout.Module> moduleOf = new HashMap<>();

        private Inspection(OfferedUpdate offered, Path weights, String expected, SafetensorsReader reader,
                FileChannel channel, UpdateRefused problem, AdapterConfig config, int rank) {
            this.offered = offered;
            this.weights = weights;
            this.expected = expected;
            this.reader = reader;
            this.channel = channel;
            this.problem = problem;
            this.config = config;
            this.rank = problem == null ? rank : -1;
            this.scale = config == null ? 1.0 : config.scaling();
            for (AdapterLayout.Module m : layout.modules()) {
                moduleOf.put(m.aName(), m);
                moduleOf.put(m.bName(), m);
            }
        }

        public OfferedUpdate offered() {
            return offered;
        }

        /** The parsed header, or null where the file is not readable safetensors. */
        public SafetensorsReader reader() {
            return reader;
        }

        /** The open file, for reading its bytes once to {@link #hash} and {@link #check} them. */
        public FileChannel channel() {
            return channel;
        }

        /** Whether the header passed, so the values are worth checking; else only the checksum is taken. */
        public boolean headerPassed() {
            return rank >= 0;
        }

        /** How many bytes from the start of the file have been hashed. */
        public long hashed() {
            return hashed;
        }

        /** The next bytes of the file, in order; the buffer's position advances to its limit. */
        public void hash(ByteBuffer bytes) {
            hashed += bytes.remaining();
            sha.update(bytes);
        }

        /** Reads the whole file once, sequentially, hashing every byte and checking each tensor as it passes. */
        void readInFileOrder() throws IOException {
            long size = channel.size();
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            if (headerPassed()) {
                List<TensorInfo> byOffset = new ArrayList<>();
                for (String name : reader.names()) {
                    byOffset.add(reader.info(name));
                }
                byOffset.sort(Comparator.comparingLong(TensorInfo::begin));
                long dataStart = size - (byOffset.isEmpty() ? 0 : byOffset.get(byOffset.size() - 1).end());
                hashRange(buf, dataStart);
                for (TensorInfo t : byOffset) {
                    int len = (int) t.byteLength();
                    if (buf.capacity() < len) {
                        buf = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
                    }
                    buf.clear().limit(len);
                    readFully(channel, buf, hashed);
                    buf.flip();
                    hash(buf);
                    buf.flip();
                    float[] values;
                    if (t.dtype() == Dtype.F32) {
                        values = new float[len / 4];
                        buf.asFloatBuffer().get(values);
                    } else {
                        values = reader.readFloats(t.name());
                    }
                    check(t.name(), values);
                }
            }
            hashRange(buf, size);
        }

        private void hashRange(ByteBuffer buf, long to) throws IOException {
            while (hashed < to) {
                buf.clear().limit((int) Math.min(buf.capacity(), to - hashed));
                if (channel.read(buf, hashed) < 0) {
                    break;
                }
                buf.flip();
                hash(buf);
            }
        }

        /**
         * The verdict once every byte was hashed and every tensor checked: the update, or why it is refused (a
         * checksum mismatch first: it explains any other fault).
         */
        public VerifiedUpdate verdict() throws UpdateRefused {
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equalsIgnoreCase(expected)) {
                throw new UpdateRefused(RefusalReason.ChecksumMismatch, "SHA-256 of " + Adapter.WEIGHTS_FILE + " is "
                        + actual + ", expected " + expected);
            }
            if (problem != null) {
                throw problem;
            }
            if (nonFinite != null) {
                throw new UpdateRefused(RefusalReason.NonFinite, nonFinite);
            }
            if (config.r() != rank) {
                throw new UpdateRefused(RefusalReason.WrongRank, AdapterConfig.FILE + " says r=" + config.r()
                        + " but the tensors have rank " + rank);
            }
            return new VerifiedUpdate(offered, weights, rank, config.scaling(), Math.sqrt(squaredNorm), frozenADigest());
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                if (reader != null) {
                    reader.close();
                }
            }
        }

        /**
         * Checks one tensor's values (finite; their part of the norm). True where they passed. The array is kept
         * only for {@link NormOf#PRODUCT}, until its partner factor arrives.
         */
        public boolean check(String name, float[] values) {
            if (nonFinite != null) {
                return false;
            }
            AdapterLayout.Module module = moduleOf.get(name);
            boolean isA = name.equals(module.aName());
            float[] reference = previous == null ? null : previous.tensor(name);
            // a NaN or infinity anywhere makes the sum of squares non-finite, so one pass checks both
            double sumOfSquares = squaredDistance(values, normOf == NormOf.PRODUCT ? null : reference);
            if (!Double.isFinite(sumOfSquares)) {
                for (int i = 0; i < values.length; i++) {
                    if (!Float.isFinite(values[i])) {
                        nonFinite = name + "[" + i + "] is " + values[i];
                        return false;
                    }
                }
                nonFinite = name + ": its values overflow when squared";
                return false;
            }
            switch (normOf) {
                case FACTORS -> squaredNorm += sumOfSquares;
                case B_FACTORS -> {
                    if (isA) {
                        aDigests.put(name, sha256().digest(floatBytes(values)));
                    } else {
                        squaredNorm += sumOfSquares;
                    }
                }
                case PRODUCT -> {
                    float[] partner = pendingFactors.remove(isA ? module.bName() : module.aName());
                    if (partner == null) {
                        pendingFactors.put(name, values);
                    } else {
                        float[] a = isA ? values : partner;
                        float[] b = isA ? partner : values;
                        LoraFactors own = new LoraFactors(a, b, rank, module.in(), module.out(), scale);
                        squaredNorm += previous == null ? ProductNorm.squared(List.of(own), new double[] {1})
                                : ProductNorm.squared(List.of(own, previous.factors(module)), new double[] {1, -1});
                    }
                }
            }
            return true;
        }

        private String frozenADigest() {
            MessageDigest sha = sha256();
            aDigests.values().forEach(sha::update);
            return HexFormat.of().formatHex(sha.digest());
        }
    }

    /** Σ (x − reference)²; four accumulators so the additions do not wait on each other. */
    private static double squaredDistance(float[] x, float[] reference) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int n = x.length;
        int i = 0;
        if (reference == null) {
            for (; i + 3 < n; i += 4) {
                s0 += (double) x[i] * x[i];
                s1 += (double) x[i + 1] * x[i + 1];
                s2 += (double) x[i + 2] * x[i + 2];
                s3 += (double) x[i + 3] * x[i + 3];
            }
            for (; i < n; i++) {
                s0 += (double) x[i] * x[i];
            }
        } else {
            for (; i + 3 < n; i += 4) {
                double d0 = (double) x[i] - reference[i];
                double d1 = (double) x[i + 1] - reference[i + 1];
                double d2 = (double) x[i + 2] - reference[i + 2];
                double d3 = (double) x[i + 3] - reference[i + 3];
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            for (; i < n; i++) {
                double d = (double) x[i] - reference[i];
                s0 += d * d;
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    static byte[] floatBytes(float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return buf.array();
    }

    static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            p += n;
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
