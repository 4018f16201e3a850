package io.fedtune.trainer.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.storage.SmallFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ids that end a completion: {@code eos_token_id} (an id or a list of ids, as Llama 3 has) from
 * generation_config.json where the checkpoint has one, else from config.json.
 */
public final class EosTokens {
    public static final String GENERATION_CONFIG = "generation_config.json";

    private EosTokens() {
    }

    public static Set<Integer> of(Path checkpoint) throws CheckpointInvalidException {
        Set<Integer> ids = read(checkpoint.resolve(GENERATION_CONFIG));
        return ids.isEmpty() ? read(checkpoint.resolve(ModelConfig.FILE)) : ids;
    }

    private static Set<Integer> read(Path file) throws CheckpointInvalidException {
        Set<Integer> ids = new TreeSet<>();
        if (!Files.isRegularFile(file)) {
            return ids;
        }
        JsonNode eos;
        try {
            eos = new ObjectMapper().readTree(SmallFile.readString(file, ModelConfig.CAP)).path("eos_token_id");
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file.getFileName() + ": " + e.getMessage(), e);
        }
        if (eos.isInt()) {
            ids.add(eos.asInt());
        }
        for (JsonNode id : eos) {
            if (id.isInt()) {
                ids.add(id.asInt());
            }
        }
        return ids;
    }
}
