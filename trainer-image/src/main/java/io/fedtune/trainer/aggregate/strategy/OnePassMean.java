package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.aggregate.WorkerResult;
import io.fedtune.trainer.aggregate.verify.NormOf;
import io.fedtune.trainer.aggregate.verify.UpdateInspection;
import io.fedtune.trainer.aggregate.verify.UpdateRefused;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import io.fedtune.trainer.aggregate.verify.Verdict;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.TensorInfo;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Plain FedAvg reading each update once: all shards are walked side by side, tensor by tensor, every byte hashed and
 * every value checked as it passes, and each tensor's weighted mean written at once. So memory holds one tensor per
 * shard, not one adapter, and no file is read twice.
 *
 * <p>The output is a guess until the last byte is hashed: the round keeps it only if every update
 * passes and the norm bound leaves each untouched; otherwise it rewrites the output from the accepted files, so a
 * refused update never stays in it.
 *
 * <p>Two lanes, each with its own thread, take shards l, l + 2, ... (one file's hash must be taken in order, by one
 * thread); each lane sums its shards in shard order and the lanes' sums are added in lane order, so the result does not
 * depend on thread timing.
 */
final class OnePassMean implements Closeable {
    static final int LANES = 2;
    /** Tensors in flight: enough to keep both lanes busy while the calling thread adds and writes. */
    private static final int WINDOW = 4;

    private final UpdateVerifier verifier;
    private final List<OfferedUpdate> updates;
    private final double[] rawWeights;
    private final List<Lane> lanes = new ArrayList<>();
    private double total;

    /** @param verifier must measure {@link NormOf#FACTORS}, which keeps no values */
    OnePassMean(UpdateVerifier verifier, List<OfferedUpdate> updates, double[] rawWeights) {
        this.verifier = verifier;
        this.updates = updates;
        this.rawWeights = rawWeights;
        for (int l = 0; l < LANES; l++) {
            lanes.add(new Lane());
        }
    }

    /**
     * Opens every update and hashes its header; false where some update fails a header check or is not laid out in
     * name order: it will be refused, or needs the general path, which reads it twice.
     */
    boolean open() throws IOException {
        for (int i = 0; i < updates.size(); i++) {
            lanes.get(i % LANES).shards.add(i);
            total += rawWeights[i];
        }
        List<Future<Boolean>> opened = new ArrayList<>();
        for (Lane lane : lanes) {
            opened.add(lane.thread.submit(lane::open));
        }
        boolean all = true;
        for (Future<Boolean> f : opened) {
            all &= WorkerResult.await(f);
        }
        return all;
    }

    /** Reads, hashes and checks every update's tensors and writes the weighted mean of all of them. */
    void writeMean(List<TensorSpec> specs, CoordinateOutput out) throws IOException {
        float scale = (float) (1.0 / total);
        ArrayDeque<Pending> window = new ArrayDeque<>();
        for (TensorSpec t : specs) {
            List<Future<float[]>> sums = new ArrayList<>();
            for (Lane lane : lanes) {
                sums.add(lane.thread.submit(() -> lane.sum(t)));
            }
            window.add(new Pending(t, sums));
            if (window.size() == WINDOW) {
                window.poll().write(out, scale);
            }
        }
        while (!window.isEmpty()) {
            window.poll().write(out, scale);
        }
    }

    /** Each update's verdict in offer order, once all was read. */
    List<Verdict> verdicts() {
        Verdict[] verdicts = new Verdict[updates.size()];
        for (Lane lane : lanes) {
            lane.verdicts(verdicts);
        }
        return Arrays.asList(verdicts);
    }

    @Override
    public void close() throws IOException {
        for (Lane lane : lanes) {
            lane.close();
        }
    }

    /** A tensor whose lane sums are being computed. */
    private record Pending(TensorSpec spec, List<Future<float[]>> sums) {
        void write(CoordinateOutput out, float scale) throws IOException {
            float[] mean = WorkerResult.await(sums.get(0));
            for (int l = 1; l < sums.size(); l++) {
                float[] s = WorkerResult.await(sums.get(l));
                if (s != null) {
                    for (int j = 0; j < mean.length; j++) {
                        mean[j] += s[j];
                    }
                }
            }
            for (int j = 0; j < mean.length; j++) {
                mean[j] *= scale;
            }
            out.write(spec.name(), mean, true);
        }
    }

    /** One thread's shards, with the buffers it reuses from tensor to tensor. */
    private final class Lane {
        final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "one-pass-mean");
            t.setDaemon(true);
            return t;
        });
        final List<Integer> shards = new ArrayList<>();
        final List<UpdateInspection> inspections = new ArrayList<>();
        // on the heap: SHA-256 then takes the whole tensor in one call, and its intrinsic is compiled sooner
        ByteBuffer bytes = ByteBuffer.allocate(0);
        float[] values = new float[0];

        /** Opens this lane's updates and hashes their headers; false where one cannot take part. */
        boolean open() throws IOException {
            for (int i : shards) {
                OfferedUpdate o = updates.get(i);
                UpdateInspection inspection;
                try {
                    inspection = verifier.inspect(o);
                } catch (UpdateRefused r) {
                    return false;
                }
                inspections.add(inspection);
                if (!inspection.headerPassed() || !inNameOrderF32(inspection.reader())) {
                    return false;
                }
                long dataStart = inspection.size() - lastEnd(inspection.reader());
                inspection.readNext(ByteBuffer.allocate((int) dataStart));
            }
            return true;
        }

        /** Σ w_i x_i over this lane's shards for one tensor, or null where the lane has none. */
        float[] sum(TensorSpec spec) throws IOException {
            float[] sum = null;
            for (int k = 0; k < inspections.size(); k++) {
                UpdateInspection inspection = inspections.get(k);
                TensorInfo info = inspection.reader().info(spec.name());
                int n = (int) info.elementCount();
                if (bytes.capacity() < info.byteLength()) {
                    bytes = ByteBuffer.allocate((int) info.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
                }
                bytes.clear().limit((int) info.byteLength());
                // name order is file order (checked on open), so this continues the hash where it stopped
                inspection.readNext(bytes);
                if (values.length != n) {
                    values = new float[n];
                }
                bytes.asFloatBuffer().get(values);
                if (sum == null) {
                    sum = new float[n];
                }
                if (inspection.check(spec.name(), values)) {
                    float w = (float) rawWeights[shards.get(k)];
                    for (int j = 0; j < n; j++) {
                        sum[j] += w * values[j];
                    }
                }
            }
            return sum;
        }

        void verdicts(Verdict[] out) {
            for (int k = 0; k < inspections.size(); k++) {
                out[shards.get(k)] = inspections.get(k).verdict();
            }
        }

        void close() throws IOException {
            thread.shutdownNow();
            try {
                thread.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (UpdateInspection inspection : inspections) {
                inspection.close();
            }
        }
    }

    /** Whether every tensor is F32 and the data section holds them in name order (how safetensors writers lay out). */
    private static boolean inNameOrderF32(SafetensorsReader reader) throws IOException {
        long expected = 0;
        for (String name : reader.names()) {
            TensorInfo info = reader.info(name);
            if (info.dtype() != Dtype.F32 || info.begin() != expected) {
                return false;
            }
            expected = info.end();
        }
        return true;
    }

    private static long lastEnd(SafetensorsReader reader) throws IOException {
        long end = 0;
        for (String name : reader.names()) {
            end = Math.max(end, reader.info(name).end());
        }
        return end;
    }
}
