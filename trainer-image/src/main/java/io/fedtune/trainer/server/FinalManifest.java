package io.fedtune.trainer.server;

import io.fedtune.api.contract.ContractJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The manifest.json of a run's published result under {@code final/}.
 *
 * @param source      the global adapter it was copied from
 * @param round       the round that wrote it
 * @param baseModel   the base checkpoint it adapts
 * @param evalLoss    its primary eval loss, or null without eval sets
 * @param files       SHA-256 of each file next to this manifest (the adapter's, and README.md when published)
 * @param publishedAt RFC 3339 time of the copy
 */
public record FinalManifest(String run, String namespace, int round, String source, String baseModel, Double evalLoss,
        Map<String, String> files, String publishedAt) {
    public static final String FILE = io.fedtune.api.contract.ObjectLayout.MANIFEST;

    void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), ContractJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(this)
                + "\n", StandardCharsets.UTF_8);
    }
}
