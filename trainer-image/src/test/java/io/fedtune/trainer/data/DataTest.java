package io.fedtune.trainer.data;

import io.fedtune.trainer.pretrain.ByteLevelBpe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataTest {
    static TextTokenizer tokenizer;
    static Path tokenizerFile;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainTokenizer(@TempDir Path tmp) throws IOException {
        String text = "In the beginning was the word, and the word was with the river.\n\n".repeat(20)
                + "The quick brown fox jumps over the lazy dog. Ünïcödé too.\n";
        ByteLevelBpe bpe = ByteLevelBpe.train(text, 320);
        tokenizerFile = tmp.resolve("tokenizer.json");
        bpe.write(tokenizerFile);
        tokenizer = TextTokenizer.load(tokenizerFile, 320);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void byteLevelBpeRoundTripsAnyTextAndCompresses() {
        String s = "In the beginning was the river; zebra Ωmega 42!";
        int[] ids = tokenizer.encode(s);
        assertThat(tokenizer.decode(ids)).isEqualTo(s);
        assertThat(ids.length).isLessThan(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        assertThat(java.util.Arrays.stream(ids).boxed().toList()).allSatisfy(id -> assertThat(id).isBetween(3, 319));
    }

    @Test
    void refusesATokenizerLargerThanTheModelVocabulary() {
        assertThatThrownBy(() -> TextTokenizer.load(tokenizerFile, 100)).isInstanceOf(TokenizerMismatchException.class)
                .hasMessageContaining("vocab_size is 100");
        assertThatThrownBy(() -> TextTokenizer.load(dir.resolve("none.json"), 100)).hasMessageContaining("no tokenizer.json");
    }

    @Test
    void textIsChunkedAtParagraphBoundariesWithinTheMaximumLength() {
        String para = "the word was with the river and the word was the river";
        String doc = String.join("\n\n", para, para, para, para, para, para);
        int paraTokens = tokenizer.encode(para + "\n\n").length;
        int max = 2 * paraTokens + 2;
        List<TokenSequence> seqs = new Chunker(tokenizer, max, ByteLevelBpe.BOS, ByteLevelBpe.EOS)
                .sequences(List.of(List.of(new Segment(doc, true))));
        assertThat(seqs).hasSize(3);
        for (TokenSequence s : seqs) {
            assertThat(s.length()).isLessThanOrEqualTo(max);
            assertThat(s.tokens()[0]).isEqualTo(ByteLevelBpe.BOS);
            String text = tokenizer.decode(s.tokens());
            assertThat(text).startsWith("the word");
        }
        int total = seqs.stream().mapToInt(s -> s.length() - 1).sum();
        assertThat(total).isEqualTo(tokenizer.encode(doc).length + 1);

        List<TokenSequence> cut = new Chunker(tokenizer, 8, ByteLevelBpe.BOS, null)
                .sequences(List.of(List.of(new Segment(para, true))));
        assertThat(cut).allSatisfy(s -> assertThat(s.length()).isLessThanOrEqualTo(8));
        assertThat(cut.stream().mapToInt(s -> s.length() - 1).sum()).isEqualTo(tokenizer.encode(para).length);
    }

    @Test
    void promptCompletionAndChatTrainOnlyOnTheAnswer() throws IOException {
        Path pc = dir.resolve("pc.jsonl");
        Files.writeString(pc, "{\"prompt\":\"In the beginning\",\"completion\":\" was the word\"}\n");
        TokenSequence s = new Chunker(tokenizer, 64, ByteLevelBpe.BOS, ByteLevelBpe.EOS)
                .sequences(Dataset.read(pc, DataFormat.PROMPT_COMPLETION).records()).get(0);
        int prompt = tokenizer.encode("In the beginning").length;
        for (int i = 0; i < s.length(); i++) {
            assertThat(s.loss()[i]).as("token %d", i).isEqualTo(i > prompt);
        }
        assertThat(s.lossTokens()).isEqualTo(tokenizer.encode(" was the word").length + 1);

        Path chat = dir.resolve("chat.jsonl");
        Files.writeString(chat, "{\"messages\":[{\"role\":\"user\",\"content\":\"the river?\"},"
                + "{\"role\":\"assistant\",\"content\":\"the word\"}]}\n");
        Files.writeString(dir.resolve(ChatTemplate.FILE), "{\"chat_template\": \"{% for m in messages %}{{ m.role }}: {{ m.content }}\\n{% endfor %}\"}");
        ChatTemplate template = ChatTemplate.read(dir).orElseThrow();
        TokenSequence c = new Chunker(tokenizer, 64, null, null)
                .sequences(Dataset.read(chat, DataFormat.CHAT, template).records()).get(0);
        StringBuilder trained = new StringBuilder();
        for (int i = 0; i < c.length(); i++) {
            if (c.loss()[i]) {
                trained.append(tokenizer.decode(new int[]{c.tokens()[i]}));
            }
        }
        // the template's "\n" after the turn is no special token, so it is not trained
        assertThat(trained.toString()).isEqualTo("the word");
    }

    @Test
    void malformedLinesAreSkippedUpToALimitAndEmptyDataIsRefused() throws IOException {
        Path file = dir.resolve("d.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 19; i++) {
            sb.append("{\"text\":\"record ").append(i).append("\"}\n");
        }
        sb.append("{broken\n\n");
        Files.writeString(file, sb);
        Dataset d = Dataset.read(file, DataFormat.TEXT);
        assertThat(d.records()).hasSize(19);
        assertThat(d.malformed()).isEqualTo(1);

        Dataset.Split split = d.split(0.2, 5);
        assertThat(split.eval()).hasSize(4);
        assertThat(split.train()).hasSize(15).doesNotContainAnyElementsOf(split.eval());
        assertThat(d.split(0.2, 5).eval()).isEqualTo(split.eval());

        Files.writeString(file, sb + "[1]\n{\"txt\":\"x\"}\n{\"text\":5}\n");
        assertThatThrownBy(() -> Dataset.read(file, DataFormat.TEXT)).isInstanceOf(DataException.class)
                .hasMessageContaining("4 of 23 lines").hasMessageContaining("first at line 20");

        Files.writeString(file, "\n\n");
        assertThatThrownBy(() -> Dataset.read(file, DataFormat.TEXT))
                .isInstanceOfSatisfying(DataException.class, e -> assertThat(e.isEmpty()).isTrue())
                .hasMessageContaining("no usable");
    }
}
