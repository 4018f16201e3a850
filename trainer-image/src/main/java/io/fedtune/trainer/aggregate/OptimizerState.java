package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.aggregate.optimizer.MomentState;
import io.fedtune.trainer.aggregate.optimizer.ServerOptimizerRule;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A server optimizer's moments in a safetensors file, {@code <tensor>.m} and {@code <tensor>.v}, read and written one
 * tensor at a time. One file per round, so a retried round reads the state the round started from, never its own.
 */
public final class OptimizerState implements Closeable {
    private final SafetensorsReader previous;
    private final SafetensorsWriter next;
    private final ServerOptimizerRule rule;

    private OptimizerState(SafetensorsReader previous, SafetensorsWriter next, ServerOptimizerRule rule) {
        this.previous = previous;
        this.next = next;
        this.rule = rule;
    }

    public static String fileName(int round) {
        return String.format(java.util.Locale.ROOT, "round-%04d.safetensors", round);
    }

    /**
     * @param previousFile the state after the previous round, or a path that does not exist (fresh state)
     * @param nextFile     where this round's state goes
     * @param tensors      the adapter's tensors, names and shapes, in name order
     */
    public static OptimizerState open(Path previousFile, Path nextFile, List<TensorSpec> tensors, ServerOptimizerRule rule,
            String optimizer, int round) throws IOException {
        SafetensorsReader previous = previousFile != null && Files.isRegularFile(previousFile)
                ? SafetensorsReader.open(previousFile) : null;
        List<TensorSpec> specs = new ArrayList<>();
        for (TensorSpec t : tensors) {
            specs.add(new TensorSpec(t.name() + ".m", Dtype.F32, t.shape()));
            specs.add(new TensorSpec(t.name() + ".v", Dtype.F32, t.shape()));
        }
        Files.createDirectories(nextFile.toAbsolutePath().getParent());
        SafetensorsWriter next = SafetensorsWriter.create(nextFile, specs,
                Map.of("optimizer", optimizer, "round", Integer.toString(round)));
        return new OptimizerState(previous, next, rule);
    }

    public boolean resumed() {
        return previous != null;
    }

    public MomentState read(String tensor, int size) throws IOException {
        if (previous != null && previous.contains(tensor + ".m") && previous.contains(tensor + ".v")) {
            float[] m = previous.readFloats(tensor + ".m");
            float[] v = previous.readFloats(tensor + ".v");
            if (m.length == size && v.length == size) {
                return new MomentState(m, v);
            }
        }
        return rule.initialState(size);
    }

    public void write(String tensor, MomentState state) throws IOException {
        next.write(tensor + ".m", state.m());
        next.write(tensor + ".v", state.v());
    }

    @Override
    public void close() throws IOException {
        try {
            if (previous != null) {
                previous.close();
            }
        } finally {
            next.close();
        }
    }
}
