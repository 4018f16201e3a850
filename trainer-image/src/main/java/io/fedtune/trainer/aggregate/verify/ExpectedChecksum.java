package io.fedtune.trainer.aggregate.verify;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The SHA-256 an update's weights must have: what the trainer reported, cross-checked with its manifest.json. */
final class ExpectedChecksum {
    /** The largest manifest.json read: a shard's lists a few files. */
    public static final long MANIFEST_CAP = 4 * io.fedtune.trainer.storage.SmallFile.MiB;

    private ExpectedChecksum() {
    }

    static String of(OfferedUpdate offered) throws UpdateRefused, IOException {
        String reported = offered.sha256();
        Path manifest = offered.dir().resolve(io.fedtune.api.contract.ObjectLayout.MANIFEST);
        String listed = null;
        if (Files.isRegularFile(manifest)) {
            try {
                JsonNode files = ContractJson.mapper().readTree(io.fedtune.trainer.storage.SmallFile.readString(manifest, MANIFEST_CAP))
                        .path("files");
                if (files.path(Adapter.WEIGHTS_FILE).isTextual()) {
                    listed = files.get(Adapter.WEIGHTS_FILE).asText();
                }
            } catch (io.fedtune.trainer.storage.SmallFile.TooLarge e) {
                throw new UpdateRefused(RefusalReason.Malformed, e.getMessage());
            } catch (IOException e) {
                throw new UpdateRefused(RefusalReason.Malformed, "manifest.json is not valid JSON: " + e.getMessage());
            }
        }
        if (reported != null && listed != null && !reported.equalsIgnoreCase(listed)) {
            throw new UpdateRefused(RefusalReason.ChecksumMismatch, "the shard reported SHA-256 " + reported
                    + " but its manifest.json lists " + listed);
        }
        String expected = reported != null ? reported : listed;
        if (expected == null) {
            throw new UpdateRefused(RefusalReason.ChecksumMismatch, "no SHA-256 reported for " + Adapter.WEIGHTS_FILE);
        }
        return expected;
    }
}
