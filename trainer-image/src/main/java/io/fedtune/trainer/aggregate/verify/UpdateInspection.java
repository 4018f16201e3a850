package io.fedtune.trainer.aggregate.verify;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.aggregate.VerifiedUpdate;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.TensorInfo;
import io.fedtune.trainer.storage.Sha256;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One update under verification: every byte of its weights through SHA-256 in file order, every tensor through
 * {@link UpdateMeasure}, then the {@link #verdict}. Made by {@link UpdateVerifier#inspect}.
 */
public final class UpdateInspection implements Closeable {
    private final OfferedUpdate offered;
    private final Path weights;
    private final String expected;
    private final SafetensorsReader reader;
    private final FileChannel channel;
    private final UpdateRefused problem;
    private final AdapterConfig config;
    /** The tensors' rank, or -1 where the header already failed a check: then the file is only hashed. */
    private final int rank;
    /** Null where the header failed. */
    private final UpdateMeasure measure;
    private final MessageDigest sha = Sha256.digest();
    private long hashed;

    UpdateInspection(OfferedUpdate offered, Path weights, String expected, SafetensorsReader reader, FileChannel channel,
            UpdateRefused problem, AdapterConfig config, int rank, UpdateMeasure measure) {
        this.offered = offered;
        this.weights = weights;
        this.expected = expected;
        this.reader = reader;
        this.channel = channel;
        this.problem = problem;
        this.config = config;
        this.rank = problem == null ? rank : -1;
        this.measure = problem == null ? measure : null;
    }

    public OfferedUpdate offered() {
        return offered;
    }

    /** The parsed header, or null where the file is not readable safetensors. */
    public SafetensorsReader reader() {
        return reader;
    }

    /** Whether the header passed, so the values are worth checking; else only the checksum is taken. */
    public boolean headerPassed() {
        return rank >= 0;
    }

    public long size() throws IOException {
        return channel.size();
    }

    /**
     * Reads the next bytes of the file (from where hashing stopped) into buf, from its start to its limit, and hashes
     * them; returns buf flipped, ready to read the same bytes.
     */
    public ByteBuffer readNext(ByteBuffer buf) throws IOException {
        long p = hashed;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            p += n;
        }
        buf.flip();
        hashed += buf.remaining();
        sha.update(buf);
        return buf.flip();
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
            hashUpTo(buf, dataStart);
            for (TensorInfo t : byOffset) {
                int len = (int) t.byteLength();
                if (buf.capacity() < len) {
                    buf = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
                }
                buf.clear().limit(len);
                readNext(buf);
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
        hashUpTo(buf, size);
    }

    private void hashUpTo(ByteBuffer buf, long to) throws IOException {
        while (hashed < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - hashed));
            if (channel.read(buf, hashed) < 0) {
                break;
            }
            buf.flip();
            hashed += buf.remaining();
            sha.update(buf);
        }
    }

    /** Checks one tensor's values (finite; their part of the norm). True where they passed. */
    public boolean check(String name, float[] values) {
        return measure.add(name, values);
    }

    /**
     * The verdict once every byte was hashed and every tensor checked (a checksum mismatch first: it explains any
     * other fault).
     */
    public Verdict verdict() {
        String actual = Sha256.hex(sha);
        if (!actual.equalsIgnoreCase(expected)) {
            return new Verdict.Refused(offered, RefusalReason.ChecksumMismatch, "SHA-256 of " + Adapter.WEIGHTS_FILE
                    + " is " + actual + ", expected " + expected);
        }
        if (problem != null) {
            return problem.verdict(offered);
        }
        if (measure.nonFinite() != null) {
            return new Verdict.Refused(offered, RefusalReason.NonFinite, measure.nonFinite());
        }
        if (config.r() != rank) {
            return new Verdict.Refused(offered, RefusalReason.WrongRank, AdapterConfig.FILE + " says r=" + config.r()
                    + " but the tensors have rank " + rank);
        }
        return new Verdict.Accepted(new VerifiedUpdate(offered, weights, rank, config.scaling(), measure.norm(),
                measure.frozenADigest()));
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
}
