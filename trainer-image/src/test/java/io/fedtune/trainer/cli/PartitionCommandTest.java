package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class PartitionCommandTest {
    @TempDir
    Path dir;

    @Test
    void qualitySkewIsWrittenToTheShardsAndBothSummaries() throws IOException {
        List<String> lines = IntStream.range(0, 120).mapToObj(i -> "{\"prompt\":\"Q" + i + ":\",\"completion\":\" "
                + "answer number ".repeat(1 + i % 7) + i + "\"}").toList();
        Path data = Files.write(dir.resolve("pc.jsonl"), lines);
        Path out = dir.resolve("out");
        int exit = new CommandLine(new PartitionCommand()).execute("--data", data.toString(), "--format", "PromptCompletion",
                "--shards", "3", "--by", "amount", "--alpha", "5", "--seed", "2", "--degraded-fraction", "0.8",
                "--degrade", "truncate,mismatch", "--out", out.toString());
        assertThat(exit).isZero();

        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("degradedFraction").asDouble()).isEqualTo(0.8);
        assertThat(summary.get("degrade").toString()).isEqualTo("[\"truncate\",\"mismatch\"]");
        int total = 0;
        for (JsonNode shard : summary.get("shards")) {
            List<String> shardLines = Files.readAllLines(out.resolve(String.format("shard-%03d.jsonl", shard.get("shard").asInt())));
            total += shardLines.size();
            List<String> kinds = new ArrayList<>();
            for (String l : shardLines) {
                JsonNode n = new ObjectMapper().readTree(l);
                if (n.has("degraded")) {
                    kinds.add(n.get("degraded").asText());
                }
            }
            assertThat(kinds.stream().filter("truncate"::equals).count()).isEqualTo(shard.at("/degraded/truncate").asLong());
            assertThat(kinds.stream().filter("mismatch"::equals).count()).isEqualTo(shard.at("/degraded/mismatch").asLong());
            assertThat(shard.get("degradedFraction").asDouble()).isBetween(0.0, 0.8);
        }
        assertThat(total).isEqualTo(120);
        assertThat(Files.readString(out.resolve("summary.txt"))).contains("degraded", "truncate", "mismatch");
    }
}
