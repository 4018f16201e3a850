package io.fedtune.api.contract;

import java.util.Locale;

/**
 * Where a run's objects live: {@code s3://<bucket>/<prefix>/<namespace>/<run>/...}.
 * One prefix per round holds the shards' adapters and the global one.
 */
public record ObjectLayout(String bucket, String prefix, String namespace, String run) {
    /** An adapter prefix's files (the PEFT layout, and fedtune's manifest beside them). */
    public static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
    public static final String ADAPTER_CONFIG = "adapter_config.json";
    public static final String MANIFEST = "manifest.json";
    /** A base checkpoint's weights (unsharded), the file spec.baseModel.sha256 pins. */
    public static final String MODEL_WEIGHTS = "model.safetensors";

    public String runRoot() {
        String p = prefix == null || prefix.isBlank() ? "" : stripSlashes(prefix) + "/";
        return "s3://" + bucket + "/" + p + namespace + "/" + run;
    }

    public String round(int round) {
        return runRoot() + String.format(Locale.ROOT, "/round-%04d", round);
    }

    /** A shard's adapter for a round; attempts write to their own prefix so a retry never mixes files with a failed try. */
    public String shardAdapter(int round, String shard, int attempt) {
        return round(round) + "/shards/" + shard + "/attempt-" + attempt;
    }

    public String globalAdapter(int round) {
        return round(round) + "/global";
    }

    public String optimizerState() {
        return runRoot() + "/optimizer-state";
    }

    public String finalAdapter() {
        return runRoot() + "/final";
    }

    private static String stripSlashes(String s) {
        return s.replaceAll("^/+", "").replaceAll("/+$", "");
    }
}
