package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.model.BosToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The BOS fedtune frames Text and PromptCompletion with is the one the tokenizer adds, not config.json's
 * bos_token_id: Text and PromptCompletion sequences start as the reference tokenizer's encode(text) with special
 * tokens (reference-ids.json ids_with_special_tokens, transformers.js), for Qwen3 (none), the packaged Llama 3 files
 * (none: the first release's post_processor is ByteLevel alone) and Llama 3 with Llama 3.1's TemplateProcessing
 * ({@code <|begin_of_text|>}); a Chat record, whose template writes bos_token, gets no second one.
 */
class BosFramingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Qwen3's and Llama 3's config.json name a bos_token_id; the tokenizer decides whether it is added. */
    static final int CONFIG_BOS_QWEN3 = 151_643;
    static final int CONFIG_BOS_LLAMA3 = 128_000;

    @TempDir
    Path dir;

    @Test
    void qwen3AddsNoBosThoughConfigJsonNamesOne() throws Exception {
        framesAsTheReference(RealTokenizers.QWEN3, RealTokenizers.QWEN3.tokenizerJson(), "cases", null, CONFIG_BOS_QWEN3);
    }

    @Test
    void theFirstLlama3ReleaseAddsNoneAndLlama31sPostProcessorAddsBeginOfText() throws Exception {
        framesAsTheReference(RealTokenizers.LLAMA3, RealTokenizers.LLAMA3.tokenizerJson(), "cases", null, CONFIG_BOS_LLAMA3);
        JsonNode reference = reference(RealTokenizers.LLAMA3);
        ObjectNode tokenizer = (ObjectNode) JSON.readTree(RealTokenizers.LLAMA3.tokenizerJson().toFile());
        tokenizer.set("post_processor", reference.get("llama31_post_processor"));
        Path llama31 = dir.resolve("llama31.json");
        JSON.writeValue(llama31.toFile(), tokenizer);
        framesAsTheReference(RealTokenizers.LLAMA3, llama31, "llama31_cases", 128_000, CONFIG_BOS_LLAMA3);
    }

    /**
     * As transformers 5.18's generic tokenizer (PreTrainedTokenizerFast) was seen to do on these files: add_bos_token
     * in tokenizer_config.json changes nothing; without that file, config.json's bos_token_id stays.
     */
    @Test
    void addBosTokenDoesNotOverrideThePostProcessorAndConfigJsonsBosStaysWithoutTokenizerConfig() throws Exception {
        try (TextTokenizer tokenizer = TextTokenizer.load(RealTokenizers.LLAMA3.tokenizerJson(), Integer.MAX_VALUE)) {
            assertThat(bos(RealTokenizers.LLAMA3, json -> json.put("add_bos_token", true), tokenizer, 128_000)).isNull();
            Files.deleteIfExists(dir.resolve(ChatTemplate.FILE));
            assertThat(BosToken.of(dir, tokenizer, 7)).as("no tokenizer_config.json, nothing added: config.json's").isEqualTo(7);
        }
        try (TextTokenizer tokenizer = TextTokenizer.load(RealTokenizers.QWEN3.tokenizerJson(), Integer.MAX_VALUE)) {
            assertThat(bos(RealTokenizers.QWEN3, json -> json.put("add_bos_token", true).put("bos_token", "<|endoftext|>"),
                    tokenizer, CONFIG_BOS_QWEN3)).isNull();
        }
    }

    private Integer bos(RealTokenizers real, java.util.function.Consumer<ObjectNode> edit, TextTokenizer tokenizer, Integer configBos)
            throws Exception {
        ObjectNode config = (ObjectNode) JSON.readTree(real.tokenizerConfig().toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve(ChatTemplate.FILE).toFile(), config);
        return BosToken.of(dir, tokenizer, configBos);
    }

    private void framesAsTheReference(RealTokenizers real, Path tokenizerJson, String casesField, Integer wantBos, int configBos)
            throws Exception {
        Files.copy(real.tokenizerConfig(), dir.resolve(ChatTemplate.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        JsonNode reference = reference(real);
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerJson, Integer.MAX_VALUE)) {
            Integer bos = BosToken.of(dir, tokenizer, configBos);
            assertThat(bos).isEqualTo(wantBos);
            Chunker chunker = new Chunker(tokenizer, 4096, bos, null);
            int compared = 0;
            for (JsonNode c : reference.path(casesField)) {
                String text = c.path("text").asText();
                int[] want = JSON.convertValue(c.path("ids_with_special_tokens"), int[].class);
                assertThat(tokenizer.encodeWithSpecialTokens(text)).as(text).containsExactly(want);
                if (want.length < 2 || text.isBlank() || text.matches("(?s).*\n\\s*\n.*")) {
                    continue; // Text packs paragraph by paragraph and skips blank text; a one-token sequence has nothing to predict
                }
                TokenSequence t = chunker.sequences(List.of(DataFormat.TEXT.segments(JSON.createObjectNode().put("text", text)))).get(0);
                assertThat(t.tokens()).as("Text %s", text).containsExactly(want);
                List<Segment> pc = DataFormat.PROMPT_COMPLETION.segments(JSON.createObjectNode().put("prompt", text).put("completion", " yes"));
                TokenSequence p = chunker.sequences(List.of(pc)).get(0);
                int[] completion = tokenizer.encode(" yes");
                assertThat(java.util.Arrays.copyOf(p.tokens(), want.length)).as("PromptCompletion %s", text).containsExactly(want);
                assertThat(p.length()).isEqualTo(want.length + completion.length);
                compared++;
            }
            assertThat(compared).isGreaterThan(10);

            // Chat: the template frames the record (Llama 3's writes bos_token), the chunker adds nothing
            JsonNode chat = JSON.readTree(RealTokenizers.class.getResourceAsStream("/tokenizers/" + real.dirName() + "/reference-chat.json"));
            ChatTemplate template = ChatTemplate.read(real.dir()).orElseThrow();
            for (JsonNode c : chat.path("cases")) {
                TokenSequence s = chunker.sequences(List.of(template.segments(c.path("messages")))).get(0);
                assertThat(s.tokens()).containsExactly(JSON.convertValue(c.path("ids"), int[].class));
                assertThat(s.tokens()[1]).as("one BOS at most").isNotEqualTo(s.tokens()[0]);
            }
        }
    }

    private static JsonNode reference(RealTokenizers real) throws java.io.IOException {
        return JSON.readTree(RealTokenizers.class.getResourceAsStream("/tokenizers/" + real.dirName() + "/reference-ids.json"));
    }
}
