package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.GlobalAdapter;
import io.fedtune.trainer.aggregate.GlobalOutput;
import io.fedtune.trainer.aggregate.OptimizerState;
import io.fedtune.trainer.aggregate.optimizer.MomentState;
import io.fedtune.trainer.aggregate.optimizer.ServerOptimizerRule;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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
    private CoordinateOutput(SafetensorsWriter writer, ServerOptimizerRule rule, OptimizerState state,
            GlobalAdapter previous) {
        this.writer = writer;
        this.rule = rule;
        this.state = state;
        this.previous = previous;
    }

    /** The round's output; its server optimizer applies from round 2 (it steps from the previous global adapter). */
    static CoordinateOutput open(AggregationInputs in, List<TensorSpec> specs, Path weightsFile) throws IOException {
        ServerOptimizerRule rule = in.previous() == null ? null : ServerOptimizerRule.of(in.aggregation().serverOptimizer);
        OptimizerState state = rule == null ? null : OptimizerState.open(
                in.stateDir().resolve(OptimizerState.fileName(in.round() - 1)),
                in.stateDir().resolve(OptimizerState.fileName(in.round())), specs, rule,
                in.aggregation().serverOptimizer.type.name(), in.round());
        try {
            return new CoordinateOutput(SafetensorsWriter.create(weightsFile, specs, GlobalOutput.METADATA), rule, state,
                    in.previous());
        } catch (IOException | RuntimeException e) {
            if (state != null) {
                state.close();
            }
            throw e;
        }
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
