package io.fedtune.trainer.aggregate;

import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Everything one round's aggregation reads, on local disk (fetched by {@link AggregationJob}).
 *
 * @param round             round number, from 1
 * @param updates           the shards' updates offered
 * @param layout            the modules every adapter must carry
 * @param previous          the global adapter the round started from, or null in round 1
 * @param lora              the run's adapter shape (target rank, alpha)
 * @param aggregation       strategy and options
 * @param participationRate fraction of shards sampled this round (privacy accounting)
 * @param seed              seeds the choices that must repeat on a retry (padding rows of ExactProduct)
 * @param stateDir          directory holding the optimizer state and privacy ledger of earlier rounds; this round's go there too
 * @param noise             source of the privacy noise (never derived from anything in the run spec)
 * @param outputDir         where the global adapter goes
 */
public record AggregationInputs(
        int round,
        List<OfferedUpdate> updates,
        AdapterLayout layout,
        GlobalAdapter previous,
        LoraSpec lora,
        AggregationSpec aggregation,
        double participationRate,
        long seed,
        Path stateDir,
        RandomGenerator noise,
        Path outputDir) {
}
