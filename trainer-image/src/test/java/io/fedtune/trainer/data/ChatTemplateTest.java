package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real Llama 3 and Qwen3 chat templates rendered by the trainer give the reference text and ids token for token
 * (reference-chat.json: transformers.js's apply_chat_template for Llama 3, jinja2 for Qwen3, whose template
 * transformers.js cannot parse), and only the assistant turns carry the loss.
 */
class ChatTemplateTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void rendersEveryConversationAsTheReferenceDoesTokenForToken(RealTokenizers real) throws Exception {
        JsonNode reference = JSON.readTree(RealTokenizers.class.getResourceAsStream(
                "/tokenizers/" + real.dirName() + "/reference-chat.json"));
        ChatTemplate template = ChatTemplate.read(real.dir()).orElseThrow();
        String closing = real == RealTokenizers.LLAMA3 ? "<|eot_id|>" : "<|im_end|>";
        int compared = 0;
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            for (JsonNode c : reference.path("cases")) {
                JsonNode messages = c.path("messages");
                String text = c.path("text").asText();
                int[] ids = JSON.convertValue(c.path("ids"), int[].class);
                assertThat(template.render(maps(messages))).isEqualTo(text);
                assertThat(tokenizer.encode(text)).containsExactly(ids);

                List<Segment> segments = template.segments(messages);
                assertThat(String.join("", segments.stream().map(Segment::text).toList())).isEqualTo(text);
                List<String> expectedLoss = new ArrayList<>();
                for (JsonNode m : messages) {
                    if (m.path("role").asText().equals("assistant")) {
                        String content = m.path("content").asText();
                        expectedLoss.add((real == RealTokenizers.LLAMA3 ? content.strip() : content) + closing);
                    }
                }
                if (real == RealTokenizers.QWEN3 && messages.toString().contains("</think>")) {
                    expectedLoss = QWEN3_REASONING_LOSS;
                }
                assertThat(segments.stream().filter(Segment::loss).map(Segment::text).toList()).isEqualTo(expectedLoss);

                // the trainer's sequence: the template frames it, so the chunker adds no BOS/EOS of its own
                TokenSequence s = new Chunker(tokenizer, 4096, null, null).sequences(List.of(segments)).get(0);
                assertThat(s.tokens()).containsExactly(ids);
                List<String> lossText = new ArrayList<>();
                List<Integer> run = new ArrayList<>();
                for (int i = 0; i <= s.length(); i++) {
                    if (i < s.length() && s.loss()[i]) {
                        run.add(s.tokens()[i]);
                    } else if (!run.isEmpty()) {
                        lossText.add(tokenizer.decodeWithSpecial(run.stream().mapToInt(Integer::intValue).toArray()));
                        run.clear();
                    }
                }
                assertThat(lossText).isEqualTo(expectedLoss);
                compared++;
            }
        }
        assertThat(compared).isEqualTo(5);
    }

    /** PromptCompletionChat: the record as the reference's user/assistant conversation (the last in reference-chat.json). */
    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void promptCompletionThroughTheTemplateIsOneUserAndOneAssistantTurn(RealTokenizers real) throws Exception {
        JsonNode reference = JSON.readTree(RealTokenizers.class.getResourceAsStream(
                "/tokenizers/" + real.dirName() + "/reference-chat.json")).path("cases").get(4);
        JsonNode record = JSON.readTree("{\"prompt\": \"Translate to French: good morning\", \"completion\": \" Bonjour\"}");
        assertThat(reference.path("messages").get(0).path("content").asText()).isEqualTo(record.get("prompt").asText());
        ChatTemplate template = ChatTemplate.read(real.dir()).orElseThrow();
        List<Segment> segments = DataFormat.PROMPT_COMPLETION_CHAT.segments(record, template);
        assertThat(String.join("", segments.stream().map(Segment::text).toList())).isEqualTo(reference.path("text").asText());
        assertThat(segments.stream().filter(Segment::loss).map(Segment::text).toList()).containsExactly(
                real == RealTokenizers.LLAMA3 ? "Bonjour<|eot_id|>" : " Bonjour<|im_end|>");
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            TokenSequence s = new Chunker(tokenizer, 4096, 5, 6).sequences(List.of(segments)).get(0);
            assertThat(s.tokens()).as("framed by the template: no BOS or EOS of the chunker's")
                    .containsExactly(JSON.convertValue(reference.path("ids"), int[].class));
        }
        assertThat(DataFormat.parse("PromptCompletionChat")).isEqualTo(DataFormat.PROMPT_COMPLETION_CHAT);
        assertThat(DataFormat.PROMPT_COMPLETION_CHAT.segments(JSON.readTree("{\"prompt\": \"p\"}"), template)).isNull();
    }

    /**
     * Qwen3 drops the reasoning of the turn before the last user message and writes the last turn's in a think block
     * (the template's own opener, {@code <think>\n}, carries no loss).
     */
    static final List<String> QWEN3_REASONING_LOSS = List.of("21<|im_end|>",
            "One three more than 21: 24.\n</think>\n\n24<|im_end|>");

    @Test
    void qwen3ReasoningContentGivenApartRendersAndCarriesLossAsWhenItIsInTheContent() throws Exception {
        ChatTemplate template = ChatTemplate.read(RealTokenizers.QWEN3.dir()).orElseThrow();
        JsonNode inContent = JSON.readTree("""
                [{"role": "user", "content": "And 3 * 8?"},
                 {"role": "assistant", "content": "<think>\\nOne three more than 21: 24.\\n</think>\\n\\n24"}]""");
        JsonNode apart = JSON.readTree("""
                [{"role": "user", "content": "And 3 * 8?"},
                 {"role": "assistant", "content": "24", "reasoning_content": "One three more than 21: 24."}]""");
        assertThat(template.render(maps(apart))).isEqualTo(template.render(maps(inContent)))
                .isEqualTo("<|im_start|>user\nAnd 3 * 8?<|im_end|>\n<|im_start|>assistant\n<think>\nOne three more than 21: 24.\n"
                        + "</think>\n\n24<|im_end|>\n");
        for (JsonNode messages : List.of(inContent, apart)) {
            assertThat(template.segments(messages).stream().filter(Segment::loss).map(Segment::text).toList())
                    .containsExactly(QWEN3_REASONING_LOSS.get(1));
        }
    }

    @Test
    void aCheckpointWithoutATemplateHasNone() throws Exception {
        assertThat(ChatTemplate.read(dir)).isEmpty();
        Files.writeString(dir.resolve(ChatTemplate.FILE), "{\"bos_token\": \"<s>\"}");
        assertThat(ChatTemplate.read(dir)).isEmpty();
    }

    @Test
    void raiseExceptionAndUnknownRolesFailTheRecord() throws Exception {
        Files.writeString(dir.resolve(ChatTemplate.FILE), JSON.writeValueAsString(Map.of("chat_template",
                "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('bad role ' + m.role) }}"
                        + "{% endif %}{{ m.role }}: {{ m.content }}\n{% endfor %}")));
        ChatTemplate template = ChatTemplate.read(dir).orElseThrow();
        assertThatThrownBy(() -> template.segments(JSON.readTree("[{\"role\":\"tool\",\"content\":\"x\"}]")))
                .isInstanceOf(ChatTemplate.RenderFailed.class).hasMessageContaining("bad role tool");
        assertThat(template.segments(JSON.readTree("[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]")))
                .containsExactly(new Segment("user: q\nassistant: ", false, true), new Segment("a", true, true), new Segment("\n", false, true));
    }

    @Test
    void pythonStringMethodsKeepPythonSemantics() {
        assertThat(ChatTemplate.jinjavaSyntax("{% set ns = namespace(a=true, b=messages|length - 1) %}{% for m in messages[::-1] %}"))
                .isEqualTo("{% set ns = namespace(a=(true), b=(messages|length - 1)) %}{% for m in messages|reverse|list %}");
        assertThat(ChatTemplate.PythonStringMethods.split("A</think>", "</think>")).containsExactly("A", "");
        assertThat(ChatTemplate.PythonStringMethods.split("a.b", ".")).containsExactly("a", "b");
        assertThat(ChatTemplate.PythonStringMethods.lstrip("\n\nx\n", "\n")).isEqualTo("x\n");
        assertThat(ChatTemplate.PythonStringMethods.rstrip("  x \t", null)).isEqualTo("  x");
    }

    static List<Map<String, Object>> maps(JsonNode messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode m : messages) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(m, Map.class);
            out.add(map);
        }
        return out;
    }
}
