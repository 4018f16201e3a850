package io.fedtune.trainer.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PartitionTest {
    @TempDir
    Path dir;

    private Path corpus() throws IOException {
        List<String> lines = new ArrayList<>();
        Random r = new Random(0);
        for (int i = 0; i < 600; i++) {
            lines.add("{\"text\":\"" + "w".repeat(5 + r.nextInt(400)) + " " + i + "\"}");
        }
        lines.add("not json");
        return Files.write(dir.resolve("c.jsonl"), lines);
    }

    @Test
    void everyRecordLandsInExactlyOneShardAndTheSplitIsSeeded() throws IOException {
        Path file = corpus();
        Partition.Result a = Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 7);
        List<String> all = new ArrayList<>();
        a.shards().forEach(all::addAll);
        assertThat(all).hasSize(600).doesNotHaveDuplicates();
        assertThat(a.shards()).allSatisfy(s -> assertThat(s).isNotEmpty());
        assertThat(Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 7).shards()).isEqualTo(a.shards());
        assertThat(Partition.split(file, DataFormat.TEXT, 5, 0.5, Partition.Mode.LENGTH, 3, 8).shards()).isNotEqualTo(a.shards());
        assertThat(Partition.table(a)).contains("shard", "samples", "len[0,");
    }

    @Test
    void smallAlphaSkewsLengthClassesAcrossShardsAndLargeAlphaDoesNot() throws IOException {
        Path file = corpus();
        double skewed = classSkew(Partition.split(file, DataFormat.TEXT, 4, 0.1, Partition.Mode.LENGTH, 3, 1));
        double even = classSkew(Partition.split(file, DataFormat.TEXT, 4, 1000, Partition.Mode.LENGTH, 3, 1));
        assertThat(skewed).isGreaterThan(0.3);
        assertThat(even).isLessThan(0.1);

        Partition.Result amount = Partition.split(file, DataFormat.TEXT, 4, 0.1, Partition.Mode.AMOUNT, 3, 1);
        int max = amount.summary().stream().mapToInt(Partition.ShardSummary::samples).max().orElseThrow();
        int min = amount.summary().stream().mapToInt(Partition.ShardSummary::samples).min().orElseThrow();
        assertThat(max).isGreaterThan(3 * min);
    }

    /** Mean over shards of the largest deviation of a class share from one third. */
    private static double classSkew(Partition.Result r) {
        double total = 0;
        for (Partition.ShardSummary s : r.summary()) {
            double worst = 0;
            for (int c : s.perClass()) {
                worst = Math.max(worst, Math.abs((double) c / s.samples() - 1.0 / 3));
            }
            total += worst;
        }
        return total / r.summary().size();
    }
}
