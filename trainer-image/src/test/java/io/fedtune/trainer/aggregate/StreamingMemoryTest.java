package io.fedtune.trainer.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.AdapterShape;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.cli.AggregateCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The aggregation must fit a heap far smaller than the adapters it combines: it may not hold them all at once. */
class StreamingMemoryTest {
    @TempDir
    Path tmp;

    @Test
    void aggregatesTwelveEightMegabyteAdaptersInA32MegabyteHeap() throws Exception {
        AdapterLayout layout = AdapterLayout.of(new AdapterShape() {
            public int layers() {
                return 32;
            }

            public int inFeatures(LoraTarget target) {
                return 1024;
            }

            public int outFeatures(LoraTarget target) {
                return 1024;
            }
        }, List.of(LoraTarget.Q_PROJ, LoraTarget.V_PROJ));
        int rank = 16;
        List<ShardUpdate> updates = new ArrayList<>();
        Map<String, float[]> tensors = AdapterFixture.random(layout, rank, 1);
        long total = 0;
        for (int i = 0; i < 12; i++) {
            // the same values scaled per shard: cheap to make, and still a distinct file per shard
            float f = 1 + i * 0.01f;
            Map<String, float[]> scaled = new java.util.TreeMap<>();
            tensors.forEach((k, v) -> {
                float[] c = v.clone();
                for (int j = 0; j < c.length; j++) {
                    c[j] *= f;
                }
                scaled.put(k, c);
            });
            Path dir = tmp.resolve("s" + i);
            String sha = AdapterFixture.write(dir, layout, rank, 32, scaled);
            total += Files.size(dir.resolve("adapter_model.safetensors"));
            updates.add(new ShardUpdate("s" + i, dir.toString(), sha, 100, 1.0, rank));
        }
        assertThat(total).isGreaterThan(3L * 32 * 1024 * 1024);
        LoraSpec lora = new LoraSpec();
        lora.rank = rank;
        lora.alpha = 32.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        AggregateTask task = new AggregateTask("run", "ns", 1, 1, null, null, null, null, null, null, null, updates, lora,
                new AggregationSpec(), null, null, List.of(), 128, 1, 1.0, tmp.resolve("global").toString());
        Path taskFile = tmp.resolve("task.json");
        Files.writeString(taskFile, ContractJson.write(task));
        Path log = tmp.resolve("termination.json");

        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), AggregateCommand.class.getName(),
                "--task", taskFile.toString(), "--work-dir", tmp.resolve("work").toString(), "--termination-log",
                log.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(tmp.resolve("out.txt"))).isZero();
        AggregateResult result = ContractJson.read(Files.readString(log), AggregateResult.class);
        assertThat(result.outcome()).isEqualTo(Outcome.Succeeded);
        assertThat(result.accepted()).hasSize(12);
    }
}
