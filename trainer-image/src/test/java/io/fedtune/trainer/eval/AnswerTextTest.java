package io.fedtune.trainer.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AnswerTextTest {

    @Test
    void normalisingLowercasesDropsPunctuationAndCollapsesWhitespace() {
        assertThat(AnswerText.normalise("  The Cat,\tsat!  on\n\nthe MAT. ")).isEqualTo("the cat sat on the mat");
        assertThat(AnswerText.normalise("¿Qué? «tal»")).isEqualTo("qué tal");
    }

    @Test
    void exactMatchComparesNormalisedTextAgainstEveryReference() {
        assertThat(AnswerText.exactMatch("Paris.", List.of("London", "paris"))).isEqualTo(1.0);
        assertThat(AnswerText.exactMatch("Paris, France", List.of("paris"))).isEqualTo(0.0);
        assertThat(AnswerText.exactMatch("New   York!", List.of("new york"))).isEqualTo(1.0);
    }

    @Test
    void rougeLIsTheF1OfTheLongestCommonWordSubsequence() {
        // answer 6 words, reference 6 words, LCS "the cat on mat" = 4: P = R = 4/6, F1 = 2/3
        assertThat(AnswerText.rougeL("the cat sat on the mat", "the cat lay on a mat")).isCloseTo(2.0 / 3, within(1e-12));
        // answer 4 words, reference 2, LCS "b d" = 2: P = 1/2, R = 1, F1 = 2 * 0.5 * 1 / 1.5 = 2/3
        assertThat(AnswerText.rougeL("a b c d", "b d")).isCloseTo(2.0 / 3, within(1e-12));
        // answer 3 words, reference 5, LCS "x z" = 2 (order matters: "z x" is not a subsequence of both): P = 2/3, R = 2/5
        assertThat(AnswerText.rougeL("x y z", "x q z x r")).isCloseTo(2 * (2.0 / 3) * (2.0 / 5) / (2.0 / 3 + 2.0 / 5),
                within(1e-12));
        assertThat(AnswerText.rougeL("Hello, World!", "hello world")).isEqualTo(1.0);
        assertThat(AnswerText.rougeL("nothing shared", "entirely different")).isEqualTo(0.0);
        assertThat(AnswerText.rougeL("", "a reference")).isEqualTo(0.0);
    }

    @Test
    void rougeLTakesTheBestReference() {
        // "b d" against "a b c d": 2/3 (above); against "b d": 1
        assertThat(AnswerText.rougeL("b d", List.of("a b c d", "b d"))).isEqualTo(1.0);
        assertThat(AnswerText.rougeL("b d", List.of("a b c d", "q"))).isCloseTo(2.0 / 3, within(1e-12));
    }
}
