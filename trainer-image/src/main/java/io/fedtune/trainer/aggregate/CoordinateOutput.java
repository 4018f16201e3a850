package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.aggregate.optimizer.MomentState;
import io.fedtune.trainer.aggregate.optimizer.ServerOptimizerRule;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The new global adapter of a coordinate-wise round, written tensor by tensor in name order: each combined tensor
 * goes through the server optimizer (where the round has one) and then to the file.
 */
final class CoordinateOutput implements Closeable {
    private final SafetensorsWriter writer;
    private final OptimizerState state;
    private final ServerOptimizerRule rule;
    private final GlobalAdapter previous;

    /**
     * @param rule  the server optimizer, or null for none
     * @param state where the optimizer's moments are read and written; null exactly when rule is
     */
    CoordinateOutput(Path weightsFile, List<TensorSpec> specs, Map<String, String> metadata, ServerOptimizerRule rule,
            OptimizerState state, GlobalAdapter previous) throws IOException {
        this.writer = SafetensorsWriter.create(weightsFile, specs, metadata);
        this.rule = rule;
        this.state = state;
        this.previous = previous;
    }

    /**
     * Writes the next tensor (name order) from its combination.
     *
     * @param stepped whether the server optimizer steps it (FFA's frozen A is carried unchanged)
     */
    void write(String name, float[] combined, boolean stepped) throws IOException {
        float[] out = combined;
        if (state != null) {
            MomentState moments = state.read(name, out.length);
            if (stepped) {
                out = new float[combined.length];
                rule.step(previous == null ? null : previous.tensor(name), combined, moments, out);
            }
            state.write(name, moments);
        }
        writer.write(name, out);
    }

    @Override
    public void close() throws IOException {
        try {
            writer.close();
        } finally {
            if (state != null) {
                state.close();
            }
        }
    }
}
