package io.fedtune.trainer.aggregate;

import java.util.Map;

/**
 * The global adapter's manifest.json.
 *
 * @param run         FederatedRun name
 * @param round       round number
 * @param attempt     attempt number
 * @param aggregation what the aggregation did: accepted and refused shards, weights, strategy, energy, epsilon, timings
 * @param evaluation  global evaluation of base + new adapter, or null where none ran
 * @param files       SHA-256 of each file next to this manifest
 * @param seconds     wall time of the whole aggregation
 */
public record GlobalManifest(String run, int round, int attempt, RoundReport aggregation, RoundEvaluation evaluation,
        Map<String, String> files, double seconds) {
    public static final String FILE = io.fedtune.api.contract.ObjectLayout.MANIFEST;
}
