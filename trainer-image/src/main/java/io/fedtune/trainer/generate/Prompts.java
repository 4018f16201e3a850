package io.fedtune.trainer.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.data.DataException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A prompts file: JSONL with a string {@code prompt} per line (a PromptCompletion set works as it is); blank lines skipped. */
public final class Prompts {
    private Prompts() {
    }

    public static List<String> read(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> prompts = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int number = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode prompt;
                try {
                    prompt = json.readTree(line).path("prompt");
                } catch (IOException e) {
                    throw DataException.malformed("prompts line " + number + " is not JSON: " + e.getMessage());
                }
                if (!prompt.isTextual()) {
                    throw DataException.malformed("prompts line " + number + " has no string \"prompt\"");
                }
                prompts.add(prompt.asText());
            }
        }
        if (prompts.isEmpty()) {
            throw DataException.empty("no prompts in " + file.getFileName());
        }
        return prompts;
    }
}
