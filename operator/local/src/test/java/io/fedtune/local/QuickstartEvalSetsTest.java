package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The quickstart's eval sets have the record shapes their tasks read, and the in-domain ones hold out what they
 * claim to: no verse of theirs is in a shard's training data.
 */
class QuickstartEvalSetsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path quickstart;
    private static FederatedRun run;

    @BeforeAll
    static void load() throws IOException {
        quickstart = RepoLayout.find().root().resolve("examples/quickstart");
        run = Manifests.load(quickstart).runs().get(0);
    }

    @Test
    void theRunEvaluatesSixSetsWithInDomainLossPrimary() {
        List<EvalDataset> sets = run.getSpec().evaluation.datasets;
        assertThat(sets).extracting(s -> s.name).containsExactly("in-domain", "out-of-domain", "book-in-domain",
                "book-out-of-domain", "continue-in-domain", "continue-out-of-domain");
        assertThat(sets).extracting(s -> s.task).containsExactly(EvalTask.LanguageModeling, EvalTask.LanguageModeling,
                EvalTask.MultipleChoice, EvalTask.MultipleChoice, EvalTask.Generation, EvalTask.Generation);
        assertThat(sets.get(0).rankingMetric()).isEqualTo(EvalMetric.Loss);
        assertThat(sets.subList(4, 6)).allSatisfy(s -> assertThat(s.maxNewTokens).isEqualTo(SideBySide.MAX_NEW_TOKENS));
    }

    @Test
    void everyRecordHasItsTasksShape() throws IOException {
        for (EvalDataset set : run.getSpec().evaluation.datasets) {
            List<JsonNode> records = records(set);
            assertThat(records).as(set.name).isNotEmpty();
            for (JsonNode r : records) {
                String where = set.name + ": " + r;
                switch (set.task) {
                    case LanguageModeling -> assertThat(r.path("text").asText()).as(where).isNotBlank();
                    case Classification -> {
                        assertThat(r.path("prompt").asText()).as(where).isNotBlank();
                        assertThat(r.path("label").isTextual()).as(where).isTrue();
                    }
                    case MultipleChoice -> {
                        assertThat(r.path("prompt").asText()).as(where).isNotBlank();
                        List<String> choices = new ArrayList<>();
                        r.path("choices").forEach(c -> choices.add(c.asText()));
                        assertThat(r.path("choices").isArray()).as(where).isTrue();
                        assertThat(choices).as(where).hasSize(4).doesNotHaveDuplicates().allSatisfy(c -> assertThat(c).isNotBlank());
                        assertThat(r.path("answer").isInt()).as(where).isTrue();
                        assertThat(r.path("answer").asInt()).as(where).isBetween(0, choices.size() - 1);
                    }
                    case Generation -> {
                        assertThat(r.path("prompt").asText()).as(where).isNotBlank();
                        boolean completion = r.path("completion").isTextual() && !r.path("completion").asText().isBlank();
                        boolean references = r.path("references").isArray() && !r.path("references").isEmpty();
                        assertThat(completion || references).as(where).isTrue();
                        // the answer ends at a newline, so a reference cannot hold one
                        assertThat(r.path("completion").asText()).as(where).doesNotContain("\n");
                    }
                }
            }
        }
    }

    @Test
    void noInDomainTaskVerseIsInAShardAndEachIsInTheHeldOutChapters() throws IOException {
        Set<String> shardVerses = new HashSet<>();
        try (Stream<Path> shards = Files.list(quickstart.resolve("data"))) {
            for (Path dir : shards.filter(p -> p.getFileName().toString().startsWith("shard-")).toList()) {
                for (String line : Files.readAllLines(dir.resolve("train.jsonl"))) {
                    shardVerses.addAll(verses(JSON.readTree(line).path("text").asText()));
                }
            }
        }
        assertThat(shardVerses).hasSizeGreaterThan(1000);
        Set<String> heldOut = new HashSet<>();
        for (JsonNode r : records(set("in-domain"))) {
            heldOut.addAll(verses(r.path("text").asText()));
        }

        List<String> taskVerses = new ArrayList<>();
        records(set("book-in-domain")).forEach(r -> taskVerses.add(r.path("prompt").asText().replaceFirst("\nBook:$", "")));
        records(set("continue-in-domain")).forEach(r -> taskVerses.add(r.path("prompt").asText() + r.path("completion").asText()));

        assertThat(taskVerses).hasSize(70).doesNotHaveDuplicates();
        assertThat(taskVerses).allSatisfy(v -> assertThat(heldOut).as("held out").contains(v));
        assertThat(taskVerses).noneMatch(shardVerses::contains);
    }

    @Test
    void thePromptsFileHoldsFourPrompts() throws IOException {
        assertThat(SideBySide.prompts(quickstart.resolve("prompts.txt"))).hasSize(4)
                .allSatisfy(p -> assertThat(p).isNotBlank().doesNotStartWith("#"));
    }

    private static EvalDataset set(String name) {
        return run.getSpec().evaluation.datasets.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow();
    }

    private static List<JsonNode> records(EvalDataset set) throws IOException {
        S3Uri uri = S3Uri.parse(set.uri);
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(quickstart.resolve("data").resolve(uri.bucket()).resolve(uri.key()))) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    private static List<String> verses(String text) {
        return Stream.of(text.split("\n\n")).map(String::strip).filter(v -> !v.isEmpty()).toList();
    }
}
