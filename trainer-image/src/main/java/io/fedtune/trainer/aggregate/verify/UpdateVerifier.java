package io.fedtune.trainer.aggregate.verify;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.aggregate.AdapterLayout;
import io.fedtune.trainer.aggregate.GlobalAdapter;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checks one shard's update before it may count: SHA-256 against what the trainer reported and its manifest lists,
 * a well-formed safetensors file and adapter_config.json, tensor names, shapes and rank as the run expects, every value
 * finite; and measures the update's norm. The file is read once, sequentially, hashing and checking as it goes.
 */
public final class UpdateVerifier {
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

    public NormOf normOf() {
        return normOf;
    }

    /** The digest {@link io.fedtune.trainer.aggregate.VerifiedUpdate#frozenADigest} of an adapter held in memory. */
    public String frozenADigest(GlobalAdapter adapter) {
        return UpdateMeasure.frozenADigest(layout, adapter);
    }

    public Verdict verify(OfferedUpdate offered) throws IOException {
        try (UpdateInspection inspection = inspect(offered)) {
            inspection.readInFileOrder();
            return inspection.verdict();
        } catch (UpdateRefused r) {
            return r.verdict(offered);
        }
    }

    /**
     * Opens an update and makes the checks its header allows; its bytes must then all pass through
     * {@link UpdateInspection#readNext} (in file order) and its tensors through {@link UpdateInspection#check} before
     * {@link UpdateInspection#verdict}.
     *
     * @throws UpdateRefused where no file or no expected SHA-256 leaves nothing to check against
     */
    public UpdateInspection inspect(OfferedUpdate offered) throws UpdateRefused, IOException {
        Path dir = offered.dir();
        Path weights = dir.resolve(Adapter.WEIGHTS_FILE);
        if (!Files.isRegularFile(weights) || !Files.isRegularFile(dir.resolve(AdapterConfig.FILE))) {
            throw new UpdateRefused(RefusalReason.Missing, "no " + Adapter.WEIGHTS_FILE + " and " + AdapterConfig.FILE
                    + " in " + dir);
        }
        String expected = ExpectedChecksum.of(offered);
        UpdateRefused problem = null;
        SafetensorsReader reader = null;
        try {
            reader = SafetensorsReader.open(weights);
        } catch (IOException e) {
            problem = new UpdateRefused(RefusalReason.Malformed, "not a readable safetensors file: " + e.getMessage());
        }
        int rank = -1;
        AdapterConfig config = null;
        FileChannel channel;
        try {
            if (reader != null) {
                try {
                    rank = LayoutCheck.rank(reader, layout, requiredRank, offered);
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
        UpdateMeasure measure = problem != null ? null
                : new UpdateMeasure(layout, normOf, previous, rank, config.scaling());
        return new UpdateInspection(offered, weights, expected, reader, channel, problem, config, rank, measure);
    }
}
