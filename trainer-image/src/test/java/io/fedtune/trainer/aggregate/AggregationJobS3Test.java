package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.cli.S3ProxyServer;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageSession;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AggregationJobS3Test {
    @TempDir
    Path tmp;

    @Test
    void twoRoundsThroughObjectStorageKeepTheOptimizerStateThere() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            s3.makeBucket("run");
            List<ShardUpdate> updates = upload(s3, 1);
            LoraSpec lora = new LoraSpec();
            lora.rank = 2;
            lora.alpha = 4.0;
            lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
            AggregationSpec spec = new AggregationSpec();
            spec.serverOptimizer.type = ServerOptimizer.FedAdam;
            ObjectStore store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);

            AggregateResult first = new AggregationJob(task(1, null, updates, lora, spec),
                    StorageSession.ofRunStore(store, tmp.resolve("work1"))).run();
            assertThat(first.outcome()).isEqualTo(Outcome.Succeeded);
            assertThat(first.accepted()).containsExactly("s0", "s1", "s2");
            assertThat(first.configSha256()).as("the published adapter_config.json's")
                    .isEqualTo(store.metadata(S3Uri.parse("s3://run/ns/r/round-0001/global/adapter_config.json")).get("sha256"));
            Path fetched = tmp.resolve("fetched");
            store.download(S3Uri.parse("s3://run/ns/r/round-0001/global/" + Adapter.WEIGHTS_FILE),
                    fetched.resolve(Adapter.WEIGHTS_FILE));
            assertThat(Sha256.of(fetched.resolve(Adapter.WEIGHTS_FILE))).isEqualTo(first.sha256());
            assertThat(store.metadata(S3Uri.parse("s3://run/ns/r/round-0001/global/" + Adapter.WEIGHTS_FILE)))
                    .containsEntry("sha256", first.sha256());

            AggregateResult second = new AggregationJob(task(2, "s3://run/ns/r/round-0001/global/", first.sha256(),
                    first.optimizerStateSha256(), upload(s3, 2), lora, spec), StorageSession.ofRunStore(store, tmp.resolve("work2"))).run();
            assertThat(second.outcome()).isEqualTo(Outcome.Succeeded);
            assertThat(second.sha256()).isNotEqualTo(first.sha256());
            // FedAdam starts in round 2 (it needs a previous global adapter); its state now lives in object storage
            s3.client().statObject(StatObjectArgs.builder().bucket("run")
                    .object("ns/r/optimizer-state/" + OptimizerState.fileName(2)).build());
            S3Uri state = S3Uri.parse("s3://run/ns/r/optimizer-state/" + OptimizerState.fileName(2));
            assertThat(second.optimizerStateSha256()).as("reported for the operator to record")
                    .containsEntry(OptimizerState.fileName(2), store.metadata(state).get("sha256"));

            // the optimizer state changes in storage after the operator recorded it: refused, the round not aggregated
            Path moments = tmp.resolve("moments/" + OptimizerState.fileName(2));
            store.download(state, moments);
            byte[] bytes = Files.readAllBytes(moments);
            bytes[bytes.length - 1] ^= 1;
            Files.write(moments, bytes);
            store.upload(moments, state, java.util.Map.of());
            AggregationJob stale = new AggregationJob(task(3, "s3://run/ns/r/round-0002/global/", second.sha256(),
                    second.optimizerStateSha256(), upload(s3, 3), lora, spec),
                    StorageSession.ofRunStore(store, tmp.resolve("work-state")));
            org.assertj.core.api.Assertions.assertThatThrownBy(stale::run)
                    .isInstanceOf(io.fedtune.trainer.storage.InputTamperedException.class)
                    .hasMessageContaining(state.toString())
                    .hasMessageContaining(second.optimizerStateSha256().get(OptimizerState.fileName(2)))
                    .hasMessageContaining(Sha256.of(moments));

            // round 2's global adapter is replaced in storage after the operator recorded its SHA-256, manifest and
            // all (round 1's files: a valid adapter of the same shape that its own manifest.json vouches for)
            for (String f : List.of(Adapter.WEIGHTS_FILE, GlobalManifest.FILE)) {
                Path local = tmp.resolve("swap/" + f);
                store.download(S3Uri.parse("s3://run/ns/r/round-0001/global/" + f), local);
                store.upload(local, S3Uri.parse("s3://run/ns/r/round-0002/global/" + f), java.util.Map.of());
            }
            AggregationJob third = new AggregationJob(task(3, "s3://run/ns/r/round-0002/global/", second.sha256(),
                    null, upload(s3, 3), lora, spec), StorageSession.ofRunStore(store, tmp.resolve("work3")));
            org.assertj.core.api.Assertions.assertThatThrownBy(third::run)
                    .isInstanceOf(io.fedtune.trainer.storage.InputTamperedException.class)
                    .hasMessageContaining("s3://run/ns/r/round-0002/global/" + Adapter.WEIGHTS_FILE)
                    .hasMessageContaining(first.sha256()).hasMessageContaining(second.sha256());
            assertThat(store.list(S3Uri.parse("s3://run/ns/r/round-0003/global/"))).as("nothing published").isEmpty();
            assertThat(store.list(S3Uri.parse("s3://run/ns/r/optimizer-state/"))).as("the state is not advanced")
                    .noneMatch(k -> k.endsWith(OptimizerState.fileName(3)));
        }
    }

    @Test
    void aBaseModelFileOtherThanRecordedStopsTheRoundAndAReplacedUpdateIsRefused() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            s3.makeBucket("run");
            ObjectStore store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
            java.util.Map<String, String> recorded = new java.util.TreeMap<>();
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                store.upload(Path.of("base-model", f), S3Uri.parse("s3://run/models/q/" + f), java.util.Map.of());
                recorded.put(f, Sha256.of(Path.of("base-model", f)));
            }
            LoraSpec lora = new LoraSpec();
            lora.rank = 2;
            lora.alpha = 4.0;
            lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
            List<ShardUpdate> updates = upload(s3, 1);
            String wrong = "f".repeat(64);

            java.util.Map<String, String> wrongTokenizer = new java.util.TreeMap<>(recorded);
            wrongTokenizer.put("tokenizer.json", wrong);
            List<io.fedtune.api.v1alpha1.EvalDataset> evalSets = List.of(new io.fedtune.api.v1alpha1.EvalDataset());
            evalSets.get(0).name = "in-domain";
            evalSets.get(0).uri = "s3://run/eval/in-domain.jsonl";
            AggregationJob evaluating = new AggregationJob(withBase(task(1, null, updates, lora, new AggregationSpec()),
                    wrongTokenizer, evalSets), StorageSession.ofRunStore(store, tmp.resolve("work-tokenizer")));
            org.assertj.core.api.Assertions.assertThatThrownBy(evaluating::run)
                    .isInstanceOf(io.fedtune.trainer.storage.InputTamperedException.class)
                    .hasMessageContaining("s3://run/models/q/tokenizer.json").hasMessageContaining(wrong)
                    .hasMessageContaining(recorded.get("tokenizer.json"));
            assertThat(store.list(S3Uri.parse("s3://run/ns/r/round-0001/global/"))).as("nothing published").isEmpty();

            java.util.Map<String, String> wrongConfig = new java.util.TreeMap<>(recorded);
            wrongConfig.put("config.json", wrong);
            AggregationJob layout = new AggregationJob(withBase(task(1, null, updates, lora, new AggregationSpec()),
                    wrongConfig, List.of()), StorageSession.ofRunStore(store, tmp.resolve("work-config")));
            org.assertj.core.api.Assertions.assertThatThrownBy(layout::run)
                    .isInstanceOf(io.fedtune.trainer.storage.InputTamperedException.class)
                    .hasMessageContaining("s3://run/models/q/config.json");

            // an image that ignores hashes reports one SHA-256 and storage holds other bytes: the update is refused
            Path swapped = tmp.resolve("local/round-1/s0/" + Adapter.WEIGHTS_FILE);
            store.upload(swapped, S3Uri.parse(updates.get(1).adapter() + Adapter.WEIGHTS_FILE), java.util.Map.of());
            AggregateResult result = new AggregationJob(task(1, null, updates, lora, new AggregationSpec()),
                    StorageSession.ofRunStore(store, tmp.resolve("work-swapped"))).run();
            assertThat(result.accepted()).containsExactly("s0", "s2");
            assertThat(result.refused()).extracting(io.fedtune.api.contract.Refusal::shard, io.fedtune.api.contract.Refusal::reason)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("s1", "ChecksumMismatch"));
        }
    }

    private static AggregateTask withBase(AggregateTask t, java.util.Map<String, String> files,
            List<io.fedtune.api.v1alpha1.EvalDataset> evalSets) {
        return new AggregateTask(t.run(), t.namespace(), t.round(), t.attempt(), t.storage(), "s3://run/models/q", null, files,
                t.previousGlobal(), t.previousGlobalSha256(), t.bestEvalScore(), t.updates(), t.lora(), t.aggregation(),
                t.optimizerState(), t.optimizerStateSha256(), evalSets, t.maxSequenceLength(), t.seed(), t.participationRate(),
                t.output());
    }

    /** Three shards' adapters for a round, uploaded where trainers put them. */
    private List<ShardUpdate> upload(S3ProxyServer s3, int round) throws Exception {
        AdapterLayout layout = AdapterFixture.layout();
        List<ShardUpdate> updates = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path dir = tmp.resolve("local/round-" + round + "/s" + i);
            String sha = AdapterFixture.write(dir, layout, 2, 4, AdapterFixture.random(layout, 2, 10L * round + i));
            String prefix = "ns/r/round-000" + round + "/shards/s" + i + "/attempt-1/";
            for (String f : StorageSession.files(dir)) {
                s3.client().uploadObject(UploadObjectArgs.builder().bucket("run").object(prefix + f)
                        .filename(dir.resolve(f).toString()).build());
            }
            updates.add(new ShardUpdate("s" + i, "s3://run/" + prefix, sha, 10, 1.0, 2));
        }
        return updates;
    }

    private static AggregateTask task(int round, String previous, List<ShardUpdate> updates, LoraSpec lora,
            AggregationSpec spec) {
        return task(round, previous, null, null, updates, lora, spec);
    }

    private static AggregateTask task(int round, String previous, String previousSha256, java.util.Map<String, String> state,
            List<ShardUpdate> updates, LoraSpec lora, AggregationSpec spec) {
        return new AggregateTask("r", "ns", round, 1, new StorageRef(null, null), null, null, null, previous, previousSha256,
                null, updates, lora,
                spec, "s3://run/ns/r/optimizer-state/", state, List.of(), 128, 1, 1.0,
                "s3://run/ns/r/round-" + String.format("%04d", round) + "/global/");
    }
}
