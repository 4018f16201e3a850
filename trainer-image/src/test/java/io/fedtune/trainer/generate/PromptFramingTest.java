package io.fedtune.trainer.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.RealTokenizers;
import io.fedtune.trainer.data.TextTokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * generate --chat's prompts with the real Llama 3 and Qwen3 templates: one user turn with add_generation_prompt true
 * gives the reference renderer's text and ids (reference-chat.json "generation": transformers.js for Llama 3, jinja2
 * for Qwen3), and the template's end-of-turn token joins the EOS ids that stop the completion.
 */
class PromptFramingTest {
    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void eachPromptIsOneUserTurnWithTheGenerationPromptTokenForTokenAsTheReference(RealTokenizers real) throws Exception {
        JsonNode reference = new ObjectMapper().readTree(RealTokenizers.class.getResourceAsStream(
                "/tokenizers/" + real.dirName() + "/reference-chat.json"));
        ChatTemplate template = ChatTemplate.read(real.dir()).orElseThrow();
        int endOfTurn = real == RealTokenizers.LLAMA3 ? 128_009 : 151_645;
        assertThat(template.endOfTurn()).contains(real == RealTokenizers.LLAMA3 ? "<|eot_id|>" : "<|im_end|>");
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            PromptFraming chat = PromptFraming.chat(tokenizer, template, Set.of(7));
            assertThat(chat.stopIds()).containsExactly(7, endOfTurn);
            int compared = 0;
            for (JsonNode c : reference.path("generation")) {
                String prompt = c.path("prompt").asText();
                assertThat(template.generationPrompt(prompt)).isEqualTo(c.path("text").asText());
                assertThat(chat.ids(prompt)).as(prompt).containsExactly(new ObjectMapper().convertValue(c.path("ids"), int[].class));
                compared++;
            }
            assertThat(compared).isEqualTo(4);
            assertThat(PromptFraming.text(tokenizer, 5, Set.of(7)).ids("x")).startsWith(5).hasSize(1 + tokenizer.encode("x").length);
        }
    }
}
