package io.fedtune.trainer.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.cli.AggregateCommand;
import io.fedtune.trainer.storage.Sha256;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AggregateCommandTest {
    @TempDir
    Path tmp;

    private final AdapterLayout layout = AdapterFixture.layout();

    private AggregateTask task(List<ShardUpdate> updates, String previous, int round) {
        return task(updates, previous, null, round);
    }

    private AggregateTask task(List<ShardUpdate> updates, String previous, String previousSha256, int round) {
        LoraSpec lora = new LoraSpec();
        lora.rank = 2;
        lora.alpha = 4.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        return new AggregateTask("run", "ns", round, 1, null, null, null, null, previous, previousSha256, null, updates, lora,
                new AggregationSpec(), tmp.resolve("state").toString(), null, List.of(), 128, 7, 1.0,
                tmp.resolve("round-" + round).toString());
    }

    private int run(AggregateTask task) throws Exception {
        Path taskFile = tmp.resolve("task.json");
        Files.writeString(taskFile, ContractJson.write(task));
        return new CommandLine(new AggregateCommand()).execute("--task", taskFile.toString(), "--work-dir",
                tmp.resolve("work").toString(), "--termination-log", tmp.resolve("termination.log").toString());
    }

    private AggregateResult termination() throws Exception {
        String json = Files.readString(tmp.resolve("termination.log"), StandardCharsets.UTF_8);
        assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        return ContractJson.read(json, AggregateResult.class);
    }

    @Test
    void aggregatesLocalDirectoriesAndWritesAdapterManifestAndTerminationMessage() throws Exception {
        List<ShardUpdate> updates = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path dir = tmp.resolve("shards/s" + i);
            String sha = AdapterFixture.write(dir, layout, 2, 4, AdapterFixture.random(layout, 2, i));
            updates.add(new ShardUpdate("s" + i, dir.toString(), sha, 10 + i, 1.0, 2));
        }
        updates.add(new ShardUpdate("gone", tmp.resolve("shards/gone").toString(), "00", 10, 1.0, 2));

        assertThat(run(task(updates, null, 1))).isZero();

        AggregateResult result = termination();
        assertThat(result.outcome()).isEqualTo(Outcome.Succeeded);
        assertThat(result.accepted()).containsExactly("s0", "s1", "s2");
        assertThat(result.refused()).extracting(Refusal::reason).containsExactly("Missing");
        Path out = tmp.resolve("round-1");
        assertThat(result.sha256()).isEqualTo(Sha256.of(out.resolve(Adapter.WEIGHTS_FILE)));
        JsonNode manifest = ContractJson.mapper().readTree(out.resolve(GlobalManifest.FILE).toFile());
        assertThat(manifest.path("files").path(Adapter.WEIGHTS_FILE).asText()).isEqualTo(result.sha256());
        assertThat(manifest.path("aggregation").path("strategy").asText()).isEqualTo("FedAvg");
        assertThat(manifest.path("aggregation").path("accepted")).hasSize(3);
        assertThat(manifest.path("aggregation").path("refused").get(0).path("shard").asText()).isEqualTo("gone");

        // round 2 starts from round 1's global adapter, whose manifest is checked first
        assertThat(run(task(updates.subList(0, 3), out.toString(), 2))).isZero();
        assertThat(termination().outcome()).isEqualTo(Outcome.Succeeded);

        // the SHA-256 the operator recorded for round 1's adapter is another than the file's: refused by name
        String recorded = "0".repeat(64);
        assertThat(run(task(updates.subList(0, 3), out.toString(), recorded, 3))).isEqualTo(1);
        AggregateResult tampered = termination();
        assertThat(tampered.reason()).isEqualTo("InputTampered");
        assertThat(tampered.message()).contains(out.resolve(Adapter.WEIGHTS_FILE).toString()).contains(recorded)
                .contains(result.sha256());
        assertThat(tmp.resolve("round-3")).doesNotExist();
    }

    /** FedAvg over two Phi-3 shard adapters on the fused qkv_proj and gate_up_proj, laid out from the base's config.json. */
    @Test
    void aggregatesPhi3AdaptersOnTheFusedModulesAndRefusesTargetsTheBaseDoesNotHave() throws Exception {
        ModelConfig phi3 = new ModelConfig(ModelConfig.PHI3, 40, 32, 40, 2, 4, 2, 8, 1e-5, 10000.0, false, false, 128, 1, 2);
        Path base = Files.createDirectories(tmp.resolve("phi3-base"));
        Files.writeString(base.resolve(ModelConfig.FILE), phi3.toJson());
        List<LoraTarget> targets = List.of(LoraTarget.QKV_PROJ, LoraTarget.GATE_UP_PROJ);
        List<ShardUpdate> updates = new ArrayList<>();
        List<Adapter> shards = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            LoraParameters p = LoraParameters.initial(new AdapterConfig(2, 4, 0.0, targets, base.toString()), phi3, 1);
            java.util.Random r = new java.util.Random(i);
            p.tensors().values().forEach(t -> {
                for (int j = 0; j < t.values().length; j++) {
                    t.values()[j] = (float) r.nextGaussian() * 0.1f;
                }
            });
            Path dir = tmp.resolve("phi3-shards/s" + i);
            p.toAdapter().write(dir);
            shards.add(p.toAdapter());
            updates.add(new ShardUpdate("s" + i, dir.toString(), AdapterFixture.rewriteManifest(dir), 10, 1.0, 2));
        }
        LoraSpec lora = new LoraSpec();
        lora.rank = 2;
        lora.alpha = 4.0;
        lora.targetModules = List.of(TargetModule.QKV_PROJ, TargetModule.GATE_UP_PROJ);
        AggregateTask task = new AggregateTask("run", "ns", 1, 1, null, base.toString(), null, null, null, null, null, updates,
                lora, new AggregationSpec(), tmp.resolve("state").toString(), null, List.of(), 128, 7, 1.0,
                tmp.resolve("phi3-round-1").toString());
        assertThat(run(task)).isZero();
        assertThat(termination().accepted()).containsExactly("s0", "s1");
        Adapter global = Adapter.read(tmp.resolve("phi3-round-1"));
        global.checkFits(phi3);
        assertThat(global.config().targetModules()).containsExactlyInAnyOrder(LoraTarget.QKV_PROJ, LoraTarget.GATE_UP_PROJ);
        assertThat(global.tensors()).hasSize(2 * 2 * 2);
        assertThat(global.tensors().get("base_model.model.model.layers.1.self_attn.qkv_proj.lora_B.weight").shape())
                .containsExactly(64, 2);
        global.tensors().forEach((name, t) -> {
            float[] a = shards.get(0).tensors().get(name).values();
            float[] b = shards.get(1).tensors().get(name).values();
            for (int j = 0; j < a.length; j++) {
                assertThat(t.values()[j]).as("%s[%d]", name, j).isCloseTo((a[j] + b[j]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
            }
        });

        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        AggregateTask separate = new AggregateTask("run", "ns", 1, 1, null, base.toString(), null, null, null, null, null, updates,
                lora, new AggregationSpec(), tmp.resolve("state").toString(), null, List.of(), 128, 7, 1.0,
                tmp.resolve("phi3-q-round-1").toString());
        assertThat(run(separate)).isEqualTo(1);
        AggregateResult refused = termination();
        assertThat(refused.reason()).isEqualTo("CheckpointInvalid");
        assertThat(refused.message()).contains("LoRA target q_proj is not a module of Phi3ForCausalLM");
    }

    @Test
    void failsWithNoValidUpdatesAndAShortMessageWhenEverythingIsRefused() throws Exception {
        List<ShardUpdate> updates = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            updates.add(new ShardUpdate("shard-with-a-long-name-" + i, tmp.resolve("nowhere/" + i).toString(), "00", 1,
                    1.0, 2));
        }
        assertThat(run(task(updates, null, 1))).isEqualTo(1);
        AggregateResult result = termination();
        assertThat(result.outcome()).isEqualTo(Outcome.Failed);
        assertThat(result.reason()).isEqualTo("NoValidUpdates");
    }

    @Test
    void anUnreadableTaskIsInvalidTask() throws Exception {
        Path taskFile = tmp.resolve("task.json");
        Files.writeString(taskFile, "{not json");
        int code = new CommandLine(new AggregateCommand()).execute("--task", taskFile.toString(), "--work-dir",
                tmp.resolve("work").toString(), "--termination-log", tmp.resolve("termination.log").toString());
        assertThat(code).isEqualTo(1);
        assertThat(termination().reason()).isEqualTo("InvalidTask");
    }
}
