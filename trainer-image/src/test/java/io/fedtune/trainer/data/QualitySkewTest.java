package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class QualitySkewTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<QualitySkew.Kind> ALL = List.of(QualitySkew.Kind.values());

    @TempDir
    Path dir;

    static JsonNode json(String line) throws IOException {
        return JSON.readTree(line);
    }

    static List<String> words(String s) {
        return Arrays.asList(s.strip().split("\\s+"));
    }

    @Test
    void shuffleKeepsTheWordsInAnotherOrderAndTheOtherFields() throws IOException {
        String line = "{\"id\":7,\"source\":\"kjv\",\"text\":\"one two three four five six seven eight nine ten\"}";
        JsonNode out = json(QualitySkew.degrade(line, QualitySkew.Kind.SHUFFLE, DataFormat.TEXT, line, new Random(1)));
        assertThat(out.get("degraded").asText()).isEqualTo("shuffle");
        assertThat(out.get("id").asInt()).isEqualTo(7);
        assertThat(out.get("source").asText()).isEqualTo("kjv");
        assertThat(words(out.get("text").asText())).containsExactlyInAnyOrderElementsOf(words(json(line).get("text").asText()))
                .isNotEqualTo(words(json(line).get("text").asText()));
    }

    @Test
    void truncateCutsToAPrefixOfItsWords() throws IOException {
        String line = "{\"prompt\":\"Q: count\",\"completion\":\" one two three four five six seven eight nine ten\"}";
        for (int seed = 0; seed < 20; seed++) {
            JsonNode out = json(QualitySkew.degrade(line, QualitySkew.Kind.TRUNCATE, DataFormat.PROMPT_COMPLETION, line,
                    new Random(seed)));
            String completion = out.get("completion").asText();
            assertThat(out.get("prompt").asText()).isEqualTo("Q: count");
            assertThat(" one two three four five six seven eight nine ten").startsWith(completion);
            assertThat(words(completion)).hasSizeBetween(1, 9);
            assertThat(out.get("degraded").asText()).isEqualTo("truncate");
        }
    }

    @Test
    void mismatchTakesAnotherRecordsAnswer() throws IOException {
        String mine = "{\"prompt\":\"Q: sky?\",\"completion\":\" blue\",\"id\":1}";
        String theirs = "{\"prompt\":\"Q: grass?\",\"completion\":\" green\",\"id\":2}";
        JsonNode pc = json(QualitySkew.degrade(mine, QualitySkew.Kind.MISMATCH, DataFormat.PROMPT_COMPLETION, theirs, new Random(0)));
        assertThat(pc.get("prompt").asText()).isEqualTo("Q: sky?");
        assertThat(pc.get("completion").asText()).isEqualTo(" green");
        assertThat(pc.get("id").asInt()).isEqualTo(1);

        String text = "{\"text\":\"a1 a2 a3 a4\\n\\na5 a6\"}";
        String other = "{\"text\":\"b1 b2 b3 b4 b5 b6 b7 b8\"}";
        JsonNode t = json(QualitySkew.degrade(text, QualitySkew.Kind.MISMATCH, DataFormat.TEXT, other, new Random(0)));
        assertThat(t.get("text").asText()).isEqualTo("a1 a2 a3 b5 b6 b7 b8");
        assertThat(t.get("degraded").asText()).isEqualTo("mismatch");

        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}";
        String chat2 = "{\"messages\":[{\"role\":\"user\",\"content\":\"bye\"},{\"role\":\"assistant\",\"content\":\"farewell\"}]}";
        JsonNode c = json(QualitySkew.degrade(chat, QualitySkew.Kind.MISMATCH, DataFormat.CHAT, chat2, new Random(0)));
        assertThat(c.at("/messages/0/content").asText()).isEqualTo("hi");
        assertThat(c.at("/messages/1/content").asText()).isEqualTo("farewell");
    }

    @Test
    void degradedRecordsStillReadAsTheirFormat() throws IOException {
        String line = "{\"prompt\":\"Q\",\"completion\":\" a b c d\"}";
        List<String> lines = new ArrayList<>();
        for (QualitySkew.Kind k : ALL) {
            lines.add(QualitySkew.degrade(line, k, DataFormat.PROMPT_COMPLETION, "{\"prompt\":\"R\",\"completion\":\" e f\"}", new Random(3)));
        }
        Dataset d = Dataset.read(Files.write(dir.resolve("d.jsonl"), lines), DataFormat.PROMPT_COMPLETION);
        assertThat(d.records()).hasSize(3);
        assertThat(d.malformed()).isZero();
    }

    private Path corpus(int n) throws IOException {
        Random r = new Random(0);
        List<String> lines = IntStream.range(0, n).mapToObj(i -> "{\"id\":" + i + ",\"text\":\""
                + String.join(" ", IntStream.range(0, 3 + r.nextInt(40)).mapToObj(w -> "w" + i + "x" + w).toList()) + "\"}").toList();
        return Files.write(dir.resolve("c.jsonl"), lines);
    }

    private static List<Integer> ids(List<String> shard) {
        return shard.stream().map(l -> {
            try {
                return json(l).get("id").asInt();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).toList();
    }

    @Test
    void eachShardDrawsItsFractionSeededAndTheSummaryCountsWhatIsInTheFiles() throws IOException {
        Path file = corpus(500);
        QualitySkew skew = new QualitySkew(0.6, ALL);
        Partition.Result a = Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 4, skew);
        Partition.Result same = Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 4, skew);
        Partition.Result other = Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 5, skew);
        assertThat(same.shards()).isEqualTo(a.shards());
        assertThat(fractions(same)).isEqualTo(fractions(a));
        assertThat(fractions(other)).isNotEqualTo(fractions(a));
        assertThat(fractions(a)).allSatisfy(f -> assertThat(f).isBetween(0.0, 0.6));
        assertThat(fractions(a).stream().distinct()).as("a different share per shard").hasSizeGreaterThan(1);

        for (int s = 0; s < 5; s++) {
            Map<String, Integer> counted = new HashMap<>();
            for (String line : a.shards().get(s)) {
                JsonNode node = json(line);
                if (node.has("degraded")) {
                    counted.merge(node.get("degraded").asText(), 1, Integer::sum);
                }
            }
            Partition.ShardSummary summary = a.summary().get(s);
            Map<String, Integer> reported = new HashMap<>(summary.degraded());
            reported.values().removeIf(n -> n == 0);
            assertThat(counted).isEqualTo(reported);
            int degraded = counted.values().stream().mapToInt(Integer::intValue).sum();
            assertThat(summary.degradedFraction()).isCloseTo((double) degraded / summary.samples(),
                    org.assertj.core.data.Offset.offset(1e-4));
        }
        assertThat(Partition.table(a)).contains("degraded", "shuffle", "truncate", "mismatch");
    }

    @Test
    void qualitySkewKeepsEveryRecordOnceAndComposesWithLengthAndAmount() throws IOException {
        Path file = corpus(400);
        for (Partition.Mode mode : Partition.Mode.values()) {
            Partition.Result plain = Partition.split(file, DataFormat.TEXT, 4, 0.3, mode, 3, 9);
            Partition.Result skewed = Partition.split(file, DataFormat.TEXT, 4, 0.3, mode, 3, 9,
                    new QualitySkew(0.5, List.of(QualitySkew.Kind.SHUFFLE, QualitySkew.Kind.TRUNCATE)));
            List<Integer> all = new ArrayList<>();
            for (int s = 0; s < 4; s++) {
                assertThat(ids(skewed.shards().get(s))).as("the same records in the same shards as without it")
                        .isEqualTo(ids(plain.shards().get(s)));
                assertThat(skewed.summary().get(s).perClass()).isEqualTo(plain.summary().get(s).perClass());
                assertThat(skewed.summary().get(s).degraded()).containsOnlyKeys("shuffle", "truncate");
                all.addAll(ids(skewed.shards().get(s)));
                Set<String> untouched = plain.shards().get(s).stream().collect(Collectors.toSet());
                for (String line : skewed.shards().get(s)) {
                    assertThat(json(line).has("degraded") || untouched.contains(line))
                            .as("a record not degraded is left byte for byte").isTrue();
                }
            }
            assertThat(all).hasSize(400).doesNotHaveDuplicates();
            assertThat(plain.summary().get(0).degraded()).isNull();
        }
    }

    private static List<Double> fractions(Partition.Result r) {
        return r.summary().stream().map(Partition.ShardSummary::degradedFraction).toList();
    }
}
