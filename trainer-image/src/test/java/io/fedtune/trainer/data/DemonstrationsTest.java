package io.fedtune.trainer.data;

import io.fedtune.trainer.pretrain.ByteLevelBpe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class DemonstrationsTest {
    static TextTokenizer tokenizer;

    @BeforeAll
    static void trainTokenizer(@TempDir Path tmp) throws IOException {
        ByteLevelBpe bpe = ByteLevelBpe.train("question what runs to the sea? answer the river runs.\n\n".repeat(30), 320);
        bpe.write(tmp.resolve("tokenizer.json"));
        tokenizer = TextTokenizer.load(tmp.resolve("tokenizer.json"), 320);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    static List<List<Segment>> promptCompletions(int n) {
        return IntStream.range(0, n).mapToObj(i -> List.of(new Segment("question " + i + " what runs?", false),
                new Segment(" answer the river " + i + ".", true))).toList();
    }

    static Chunker chunker(int max) {
        return new Chunker(tokenizer, max, ByteLevelBpe.BOS, ByteLevelBpe.EOS);
    }

    static List<String> bytes(List<TokenSequence> seqs) {
        return seqs.stream().map(s -> Arrays.toString(s.tokens()) + Arrays.toString(s.loss())).toList();
    }

    @Test
    void zeroExamplesIsExactlyTheChunkersOutput() {
        List<List<Segment>> records = new ArrayList<>(promptCompletions(5));
        records.add(List.of(new Segment("the river runs to the sea.\n\nand the sea was good.", true)));
        records.add(List.of(new Segment("user: ", false), new Segment("what runs?\n", false),
                new Segment("assistant: ", false), new Segment("the river.\n", true)));
        Demonstrations.Sequences none = new Demonstrations(0, 3).sequences(records, chunker(64));
        assertThat(bytes(none.sequences())).isEqualTo(bytes(chunker(64).sequences(records)));
        assertThat(none.meanDemonstrations()).isZero();
    }

    @Test
    void demonstrationsAreOtherRecordsOfTheShardWithoutLossAndTheRecordIsUnchanged() {
        List<List<Segment>> records = promptCompletions(12);
        int max = 96;
        List<TokenSequence> plain = chunker(max).sequences(records);
        Demonstrations.Sequences withDemos = new Demonstrations(3, 7).sequences(records, chunker(max));
        assertThat(withDemos.sequences()).hasSameSizeAs(plain);
        assertThat(withDemos.meanDemonstrations()).isGreaterThan(1).isLessThanOrEqualTo(3);
        Set<String> shard = records.stream().map(Demonstrations::text).map(String::strip).collect(Collectors.toSet());
        for (int i = 0; i < plain.size(); i++) {
            TokenSequence own = plain.get(i);
            TokenSequence seq = withDemos.sequences().get(i);
            assertThat(seq.length()).isLessThanOrEqualTo(max);
            assertThat(seq.tokens()[0]).isEqualTo(ByteLevelBpe.BOS);
            int prefix = seq.length() - own.length();
            // the record's own tokens and loss, as without demonstrations, at the end
            assertThat(Arrays.copyOfRange(seq.tokens(), prefix + 1, seq.length())).isEqualTo(Arrays.copyOfRange(own.tokens(), 1, own.length()));
            assertThat(Arrays.copyOfRange(seq.loss(), prefix + 1, seq.length())).isEqualTo(Arrays.copyOfRange(own.loss(), 1, own.length()));
            assertThat(seq.lossTokens()).isEqualTo(own.lossTokens());
            for (int t = 0; t <= prefix; t++) {
                assertThat(seq.loss()[t]).as("no loss on a demonstration").isFalse();
            }
            String demos = tokenizer.decode(Arrays.copyOfRange(seq.tokens(), 1, prefix + 1));
            List<String> pieces = Arrays.stream(demos.split("\n\n")).filter(p -> !p.isEmpty()).toList();
            assertThat(pieces).isNotEmpty().doesNotHaveDuplicates().allSatisfy(p -> assertThat(shard).contains(p))
                    .doesNotContain(Demonstrations.text(records.get(i)).strip());
        }
    }

    @Test
    void theDrawIsSeeded() {
        List<List<Segment>> records = promptCompletions(20);
        List<String> a = bytes(new Demonstrations(2, 1).sequences(records, chunker(128)).sequences());
        assertThat(bytes(new Demonstrations(2, 1).sequences(records, chunker(128)).sequences())).isEqualTo(a);
        assertThat(bytes(new Demonstrations(2, 2).sequences(records, chunker(128)).sequences())).isNotEqualTo(a);
    }

    @Test
    void demonstrationsThatDoNotFitAreDroppedNotTheRecordsTokens() {
        List<List<Segment>> records = new ArrayList<>(promptCompletions(6));
        String longText = "the river runs to the sea and the sea was good ".repeat(6).strip();
        records.add(List.of(new Segment("question long?", false), new Segment(" " + longText, true)));
        Chunker chunker = chunker(40);
        List<TokenSequence> plain = chunker.sequences(records);
        List<TokenSequence> seqs = new Demonstrations(16, 5).sequences(records, chunker).sequences();
        for (int i = 0; i < seqs.size(); i++) {
            assertThat(seqs.get(i).length()).isLessThanOrEqualTo(40);
            assertThat(seqs.get(i).lossTokens()).isEqualTo(plain.get(i).lossTokens());
        }
        TokenSequence truncated = plain.get(6);
        assertThat(truncated.length()).as("the long record fills the sequence alone").isEqualTo(40);
        assertThat(bytes(List.of(seqs.get(6)))).as("no room: no demonstration").isEqualTo(bytes(List.of(truncated)));

        // Text: each chunk gets the demonstrations that fit in the room it leaves
        List<List<Segment>> texts = List.of(List.of(new Segment("the river runs.", true)),
                List.of(new Segment("the sea was good.", true)), List.of(new Segment(longText + "\n\n" + longText, true)));
        List<TokenSequence> textPlain = chunker.sequences(texts);
        List<TokenSequence> textSeqs = new Demonstrations(2, 5).sequences(texts, chunker).sequences();
        assertThat(textSeqs).hasSameSizeAs(textPlain);
        assertThat(textSeqs.get(0).length()).isGreaterThan(textPlain.get(0).length());
        for (int i = 0; i < textSeqs.size(); i++) {
            assertThat(textSeqs.get(i).length()).isLessThanOrEqualTo(40);
            assertThat(textSeqs.get(i).lossTokens()).isEqualTo(textPlain.get(i).lossTokens());
        }
    }
}
