package io.fedtune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.storage.SmallFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The BOS a checkpoint's tokenizer puts before a text it encodes with its special tokens, which fedtune puts before
 * Text and PromptCompletion sequences, prompts and evaluation contexts. As transformers 5 decides it:
 * <ul>
 *   <li>tokenizer_config.json sets add_bos_token or add_eos_token, or tokenizer.json has no post_processor:
 *   transformers builds the post-processor from them, so BOS is bos_token exactly when add_bos_token is true (Gemma;
 *   Qwen's add_bos_token false gives none);</li>
 *   <li>otherwise tokenizer.json's post_processor: Llama 3.1's TemplateProcessing puts {@code <|begin_of_text|>}
 *   first, a plain ByteLevel one (Qwen, the first Llama 3 release) nothing;</li>
 *   <li>no tokenizer_config.json and a post_processor that adds nothing: config.json's bos_token_id, the framing
 *   fedtune's own pretrained checkpoints (trainer-image/base-model) were trained with.</li>
 * </ul>
 * config.json's bos_token_id plays no part otherwise: Qwen3's names {@code <|endoftext|>}, which its tokenizer never
 * adds.
 */
public final class BosToken {
    private BosToken() {
    }

    /** @return the BOS id, or null for none */
    public static Integer of(Path checkpointDir, TextTokenizer tokenizer, Integer configBos) throws CheckpointInvalidException {
        Path file = checkpointDir.resolve(ChatTemplate.FILE);
        JsonNode config = null;
        if (Files.isRegularFile(file)) {
            try {
                config = new ObjectMapper().readTree(SmallFile.readString(file, 16 * SmallFile.MiB));
            } catch (IOException e) {
                throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        if (config != null && (config.has("add_bos_token") || config.has("add_eos_token") || !tokenizer.hasPostProcessor())) {
            return fromConfig(config, tokenizer);
        }
        int[] plain = tokenizer.encode("a");
        int[] framed = tokenizer.encodeWithSpecialTokens("a");
        int at = indexOf(framed, plain);
        if (at < 0) {
            throw new CheckpointInvalidException("tokenizer.json's post_processor changes a text's own tokens (\"a\": "
                    + Arrays.toString(plain) + ", with special tokens " + Arrays.toString(framed) + "); only one added BOS is supported");
        }
        if (at > 1) {
            throw new CheckpointInvalidException("tokenizer.json's post_processor puts " + at + " tokens before a text "
                    + Arrays.toString(Arrays.copyOf(framed, at)) + "; fedtune frames a sequence with one BOS at most");
        }
        if (at == 1) {
            return framed[0];
        }
        return config == null ? configBos : null;
    }

    private static Integer fromConfig(JsonNode config, TextTokenizer tokenizer) throws CheckpointInvalidException {
        if (!config.path("add_bos_token").asBoolean(false)) {
            return null;
        }
        JsonNode t = config.path("bos_token");
        String bos = t.isTextual() ? t.asText() : t.path("content").asText(null);
        if (bos == null || bos.isEmpty()) {
            return null;
        }
        int[] ids = tokenizer.encode(bos);
        if (ids.length != 1) {
            throw new CheckpointInvalidException(ChatTemplate.FILE + ": add_bos_token is true but bos_token " + bos
                    + " encodes as " + ids.length + " tokens of tokenizer.json, not one special token; fix bos_token or set add_bos_token false");
        }
        return ids[0];
    }

    private static int indexOf(int[] in, int[] part) {
        for (int i = 0; i + part.length <= in.length; i++) {
            if (Arrays.equals(Arrays.copyOfRange(in, i, i + part.length), part)) {
                return i;
            }
        }
        return -1;
    }
}
