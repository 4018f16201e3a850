package io.fedtune.operator.validation;

import static io.fedtune.operator.validation.Resources.run;
import static io.fedtune.operator.validation.Resources.set;
import static io.fedtune.operator.validation.Resources.shard;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fedtune.api.v1alpha1.BaseModelSpec;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ClientShardSpec;
import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.SecretKeys;
import io.fedtune.api.v1alpha1.ShardDataSpec;
import io.fedtune.api.v1alpha1.StorageSpec;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CrdSchemaValidatorTest {
    private static final CrdSchemaValidator VALIDATOR = new CrdSchemaValidator();

    @Test
    void theStartingResourcesAreValid() {
        assertThat(VALIDATOR.validate(run(), null)).isEmpty();
        assertThat(VALIDATOR.validate(shard(), null)).isEmpty();
    }

    static Stream<Arguments> invalidResources() {
        return Stream.of(
                refused("rank 0", () -> set(run(), "spec.lora.rank", 0), "spec.lora.rank", "must be at least 1 (got 0)"),
                refused("rank 257", () -> set(run(), "spec.lora.rank", 257), "spec.lora.rank", "must be at most 256 (got 257)"),
                refused("fraction 0", () -> set(run(), "spec.participation.fraction", 0), "spec.participation.fraction",
                        "must be greater than 0"),
                refused("fraction 1.5", () -> set(run(), "spec.participation.fraction", 1.5), "spec.participation.fraction",
                        "must be at most 1 (got 1.5)"),
                refused("minShards 0", () -> set(run(), "spec.participation.minShards", 0), "spec.participation.minShards",
                        "must be at least 1"),
                refused("learning rate 0", () -> set(run(), "spec.training.learningRate", 0), "spec.training.learningRate",
                        "must be greater than 0"),
                refused("negative learning rate", () -> set(run(), "spec.training.learningRate", -0.01),
                        "spec.training.learningRate", "must be greater than 0 (got -0.01)"),
                refused("dropout 1", () -> set(run(), "spec.lora.dropout", 1), "spec.lora.dropout", "must be less than 1"),
                refused("rounds above 10000", () -> set(run(), "spec.rounds", 10001), "spec.rounds", "must be at most 10000"),
                refused("unknown strategy", () -> set(run(), "spec.aggregation.strategy", "FedProx"), "spec.aggregation.strategy",
                        "must be one of ExactProduct, FFA, FedAvg (got \"FedProx\")"),
                refused("unknown precision", () -> set(run(), "spec.training.precision", "fp16"), "spec.training.precision",
                        "must be one of Auto, BF16, FP32"),
                refused("unknown weighting", () -> set(run(), "spec.aggregation.weighting", "Tokens"), "spec.aggregation.weighting",
                        "must be one of Samples, Uniform"),
                refused("unknown eval data format", () -> set(run(), "spec.evaluation.datasets[1].format", "CSV"),
                        "spec.evaluation.datasets[1].format", "must be one of Chat, PromptCompletion, PromptCompletionChat, Text"),
                refused("unknown target module", () -> set(run(), "spec.lora.targetModules", List.of("q_proj", "lm_head")),
                        "spec.lora.targetModules[1]", "must be one of"),
                refused("duration in words", () -> set(run(), "spec.participation.roundTimeout", "10 minutes"),
                        "spec.participation.roundTimeout", "\"10 minutes\" is not in the expected form"),
                refused("base model over http", () -> set(run(), "spec.baseModel.uri", "http://models.example/base"),
                        "spec.baseModel.uri", "is not in the expected form ^s3://"),
                refused("bucket with capitals", () -> set(run(), "spec.storage.bucket", "Fedtune_Runs"), "spec.storage.bucket",
                        "is not in the expected form"),
                refused("eval set name not a DNS label", () -> set(run(), "spec.evaluation.datasets[0].name", "In Domain"),
                        "spec.evaluation.datasets[0].name", "DNS label"),
                refused("endpoint without scheme", () -> set(run(), "spec.storage.endpoint", "127.0.0.1:9000"),
                        "spec.storage.endpoint", "is not in the expected form"),
                refused("pull policy", () -> set(run(), "spec.trainer.imagePullPolicy", "Sometimes"), "spec.trainer.imagePullPolicy",
                        "Always, IfNotPresent or Never"),
                refused("quantity that is a boolean", () -> set(run(), "spec.trainer.resources.limits.memory", true),
                        "spec.trainer.resources.limits.memory", "must be an integer or a quantity string"),
                refused("rounds as words", () -> set(run(), "spec.rounds", "five"), "spec.rounds", "must be an integer (got \"five\")"),
                refused("misspelt field", () -> set(run(), "spec.lora.rnak", 4), "spec.lora.rnak",
                        "unknown field; remove it or use one of alpha, dropout, freezeA, rank, targetModules"),
                refused("no base model", () -> set(run(), "spec.baseModel", null), "spec.baseModel", "required field is missing"),
                refused("no storage", () -> set(run(), "spec.storage", null), "spec.storage", "required field is missing"),
                refused("no rounds", () -> set(run(), "spec.rounds", null), "spec.rounds", "required field is missing"),
                refused("no storage credentials", () -> set(run(), "spec.storage.credentialsSecret", null),
                        "spec.storage", "needs exactly one of credentialsSecret (static keys in a Secret) and webIdentity"),
                refused("storage keys and web identity", () -> set(run(), "spec.storage.webIdentity",
                        Map.of("roleArn", "arn:aws:iam::1:role/r")), "spec.storage", "needs exactly one of credentialsSecret"),
                refused("web identity without a role", () -> set(set(run(), "spec.storage.credentialsSecret", null),
                        "spec.storage.webIdentity", Map.of()), "spec.storage.webIdentity.roleArn", "required field is missing"),
                refused("endpoint with a path", () -> set(run(), "spec.storage.endpoint", "http://minio.storage:9000/foo"),
                        "spec.storage.endpoint", "No path: put a key prefix in spec.storage.prefix instead"),
                refused("endpoint with a query", () -> set(run(), "spec.storage.endpoint", "https://s3.example?x=1"),
                        "spec.storage.endpoint", "scheme, host and port only"),
                refused("shard endpoint with a path", () -> set(shard(), "spec.data.endpoint", "https://s3.site-a.example/data"),
                        "spec.data.endpoint", "no path: keys go in the data URIs"),
                refused("two GPUs for a shard's trainer", () -> set(shard(), "spec.trainer.resources",
                        Map.of("limits", Map.of("nvidia.com/gpu", 2))), "spec.trainer.resources",
                        "nvidia.com/gpu must be 0 or 1: a trainer or aggregation pod computes on one device"),
                refused("two GPUs as a string for the run's trainer", () -> set(run(), "spec.trainer.resources",
                        Map.of("requests", Map.of("nvidia.com/gpu", "2"), "limits", Map.of("nvidia.com/gpu", "2"))),
                        "spec.trainer.resources", "nvidia.com/gpu must be 0 or 1"),
                refused("scratch size in words", () -> set(shard(), "spec.trainer.scratchSize", "lots"), "spec.trainer.scratchSize",
                        "is not in the expected form"),
                refused("runtime class with capitals", () -> set(run(), "spec.trainer.runtimeClassName", "NVIDIA"),
                        "spec.trainer.runtimeClassName", "is not in the expected form"),
                refused("cache claim with capitals", () -> set(shard(), "spec.trainer.cache", Map.of("persistentVolumeClaim", "Models_A")),
                        "spec.trainer.cache.persistentVolumeClaim", "is not in the expected form"),
                refused("cache claim longer than a name", () -> set(run(), "spec.aggregator.cache",
                        Map.of("persistentVolumeClaim", "m".repeat(254))), "spec.aggregator.cache.persistentVolumeClaim",
                        "at most 253"),
                refused("cache without a claim", () -> set(run(), "spec.trainer.cache", Map.of()),
                        "spec.trainer.cache.persistentVolumeClaim", "required field is missing"),
                refused("start timeout in words", () -> set(run(), "spec.participation.startTimeout", "ten minutes"),
                        "spec.participation.startTimeout", "is not in the expected form"),
                refused("privacy without clip norm", () -> set(run(), "spec.aggregation.privacy", Map.of("noiseMultiplier", 1.0)),
                        "spec.aggregation.privacy.clipNorm", "required field is missing"),
                refused("steps and epochs", () -> set(run(), "spec.training.epochs", 2), "spec.training",
                        "set either steps or epochs, not both"),
                refused("FFA without frozen A", () -> set(run(), "spec.aggregation.strategy", "FFA"), "spec",
                        "spec.aggregation.strategy FFA needs spec.lora.freezeA: true"),
                refused("minShards above maxShardsPerRound", () -> set(run(), "spec.participation.minShards", 4), "spec",
                        "spec.participation.minShards must not exceed spec.participation.maxShardsPerRound"),
                refused("storage retry timeout in words", () -> set(run(), "spec.participation.storageRetryTimeout", "5 minutes"),
                        "spec.participation.storageRetryTimeout", "\"5 minutes\" is not in the expected form"),
                refused("storage retry timeout over the round timeout", () -> set(set(run(), "spec.participation.roundTimeout", "10m"),
                        "spec.participation.storageRetryTimeout", "1h"), "spec.participation",
                        "spec.participation.storageRetryTimeout must be at most spec.participation.roundTimeout: shorten it, or "
                                + "lengthen the round timeout"),
                refused("repeated target module", () -> set(run(), "spec.lora.targetModules", List.of("q_proj", "v_proj", "q_proj")),
                        "spec.lora.targetModules", "must not repeat a module"),
                refused("repeated eval set name", () -> set(run(), "spec.evaluation.datasets[1].name", "in-domain"),
                        "spec.evaluation.datasets", "names must be unique"),
                refused("trimmed mean with ExactProduct", () -> set(set(run(), "spec.aggregation.strategy", "ExactProduct"),
                        "spec.aggregation.robustness.combine", "TrimmedMean"), "spec.aggregation", "use them with strategy FedAvg or FFA"),
                refused("server optimizer with ExactProduct", () -> set(set(run(), "spec.aggregation.strategy", "ExactProduct"),
                        "spec.aggregation.serverOptimizer.type", "FedAdam"), "spec.aggregation", "serverOptimizer.type must be None"),
                refused("shard without data", () -> set(shard(), "spec.data", null), "spec.data", "required field is missing"),
                refused("shard without training data", () -> set(shard(), "spec.data.train", null), "spec.data.train",
                        "required field is missing"),
                refused("shard without credentials", () -> set(shard(), "spec.data.credentialsSecret", null),
                        "spec.data.credentialsSecret", "required field is missing"),
                refused("shard data format", () -> set(shard(), "spec.data.train.format", "Parquet"), "spec.data.train.format",
                        "must be one of Chat, PromptCompletion, PromptCompletionChat, Text (got \"Parquet\")"),
                refused("shard data over http", () -> set(shard(), "spec.data.train.uri", "http://shard-a/train.jsonl"),
                        "spec.data.train.uri", "is not in the expected form"),
                refused("shard endpoint scheme", () -> set(shard(), "spec.data.endpoint", "ftp://10.0.0.1"), "spec.data.endpoint",
                        "is not in the expected form"),
                refused("shard rank 512", () -> set(shard(), "spec.loraRank", 512), "spec.loraRank", "must be at most 256 (got 512)"),
                refused("shard weight 0", () -> set(shard(), "spec.weight", 0), "spec.weight", "must be greater than 0"),
                refused("shard secret name", () -> set(shard(), "spec.data.credentialsSecret.name", "Shard_A"),
                        "spec.data.credentialsSecret.name", "is not in the expected form"));
    }

    private static Arguments refused(String name, Supplier<GenericKubernetesResource> resource, String field, String expected) {
        return Arguments.of(name, resource, field, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidResources")
    void refusesWithAMessageNamingTheField(String name, Supplier<GenericKubernetesResource> resource, String field, String expected) {
        List<Violation> violations = VALIDATOR.validate(resource.get(), null);

        assertThat(violations).as(name).isNotEmpty();
        assertThat(violations).as(name + ": " + violations)
                .anySatisfy(v -> {
                    assertThat(v.field()).isEqualTo(field);
                    assertThat(v.message()).startsWith(field).contains(expected);
                });
    }

    static Stream<Arguments> changesOfImmutableFields() {
        return Stream.of(
                Arguments.of("spec.baseModel.uri", "s3://fedtune-models/other/", "spec.baseModel", "spec.baseModel is immutable"),
                Arguments.of("spec.lora.rank", 16, "spec.lora", "spec.lora is immutable"),
                Arguments.of("spec.lora.targetModules", List.of("q_proj", "k_proj", "v_proj"), "spec.lora", "spec.lora is immutable"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("changesOfImmutableFields")
    void refusesChangesOfImmutableFieldsOnUpdateOnly(String path, Object value, String field, String expected) {
        GenericKubernetesResource changed = set(run(), path, value);

        assertThat(VALIDATOR.validate(changed, null)).as("on create there is no old object").isEmpty();
        assertThat(VALIDATOR.validate(changed, run()))
                .singleElement()
                .satisfies(v -> {
                    assertThat(v.field()).isEqualTo(field);
                    assertThat(v.message()).contains(expected);
                });
    }

    @Test
    void acceptsAStorageRetryTimeoutUpToTheRoundTimeoutAndNoneAtAll() {
        assertThat(VALIDATOR.validate(set(set(run(), "spec.participation.roundTimeout", "1h"),
                "spec.participation.storageRetryTimeout", "1h"), null)).isEmpty();
        assertThat(VALIDATOR.validate(set(set(run(), "spec.participation.roundTimeout", "1h30m"),
                "spec.participation.storageRetryTimeout", "90s"), null)).isEmpty();
        // no field: a round timeout under the 5m default is still valid (pods get the shorter of the two)
        assertThat(VALIDATOR.validate(set(run(), "spec.participation.roundTimeout", "2m"), null)).isEmpty();
    }

    @Test
    void acceptsTheNewPodAndStorageSettings() {
        GenericKubernetesResource identity = set(set(set(set(set(run(), "spec.storage.credentialsSecret", null),
                "spec.storage.webIdentity", Map.of("roleArn", "arn:aws:iam::123456789012:role/fedtune")),
                "spec.storage.caBundle", Map.of("name", "minio-ca")),
                "spec.storage.endpoint", "https://minio.storage:9000/"),
                "spec.trainer", Map.of("serviceAccountName", "fedtune-run", "runtimeClassName", "nvidia", "scratchSize", "50Gi",
                        "cache", Map.of("persistentVolumeClaim", "models.pool-a"),
                        "imagePullSecrets", List.of(Map.of("name", "registry")),
                        "resources", Map.of("limits", Map.of("nvidia.com/gpu", 1), "requests", Map.of("nvidia.com/gpu", "1"))));
        assertThat(VALIDATOR.validate(identity, null)).isEmpty();
        GenericKubernetesResource token = set(set(shard(), "spec.data.credentialsSecret.sessionTokenKey", "sessionToken"),
                "spec.trainer.cache", Map.of("persistentVolumeClaim", "models-site-a"));
        assertThat(VALIDATOR.validate(token, null)).isEmpty();
    }

    @Test
    void acceptsPhi3sFusedTargetModules() {
        assertThat(VALIDATOR.validate(set(run(), "spec.lora.targetModules",
                List.of("qkv_proj", "o_proj", "gate_up_proj", "down_proj")), null)).isEmpty();
    }

    @Test
    void allowsChangesOfMutableFieldsOnUpdate() {
        GenericKubernetesResource more = set(set(run(), "spec.rounds", 50), "spec.suspend", true);

        assertThat(VALIDATOR.validate(more, run())).isEmpty();
    }

    @Test
    void comparesImmutableFieldsAfterDefaulting() {
        GenericKubernetesResource implicit = set(run(), "spec.lora", null);
        GenericKubernetesResource explicit = set(run(), "spec.lora", Map.of("rank", 8, "alpha", 16, "dropout", 0.05,
                "targetModules", List.of("q_proj", "v_proj"), "freezeA", false));

        assertThat(VALIDATOR.validate(explicit, implicit)).isEmpty();
        assertThat(VALIDATOR.validate(set(explicit, "spec.lora.alpha", 32), implicit))
                .extracting(Violation::field).containsExactly("spec.lora");
    }

    @Test
    void skipsTransitionRulesWhereTheOldObjectLacksTheField() {
        GenericKubernetesResource old = set(run(), "spec.baseModel", null);

        assertThat(VALIDATOR.validate(run(), old)).isEmpty();
    }

    @Test
    void appliesSchemaDefaultsBeforeTheCelRules() {
        // lora is absent: only its schema default (freezeA false) lets the FFA rule see a value to refuse.
        GenericKubernetesResource ffa = set(set(run(), "spec.lora", null), "spec.aggregation", Map.of("strategy", "FFA"));
        assertThat(VALIDATOR.validate(ffa, null)).extracting(Violation::message)
                .containsExactly("spec.aggregation.strategy FFA needs spec.lora.freezeA: true (FFA-LoRA averages B over a shared frozen A)");

        GenericKubernetesResource frozen = set(ffa, "spec.lora", Map.of("freezeA", true));
        assertThat(VALIDATOR.validate(frozen, null)).isEmpty();
    }

    @Test
    void acceptsAMinimalRunWhoseDefaultsComeFromTheSchema() {
        GenericKubernetesResource minimal = Resources.parse("""
                apiVersion: fedtune.io/v1alpha1
                kind: FederatedRun
                metadata: {name: minimal}
                spec:
                  baseModel: {uri: "s3://models/base/"}
                  rounds: 1
                  storage: {endpoint: "https://s3.eu-west-1.amazonaws.com", bucket: runs, credentialsSecret: {name: creds}}
                """);

        assertThat(VALIDATOR.validate(minimal, null)).isEmpty();
        assertThat(minimal.getAdditionalProperties().get("spec")).asInstanceOf(
                        org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .as("the caller's object is not modified").doesNotContainKey("lora");
    }

    @Test
    void reportsEveryViolationAtOnce() {
        GenericKubernetesResource bad = set(set(set(run(), "spec.lora.rank", 0), "spec.storage.bucket", "B"),
                "spec.training.epochs", 3);

        assertThat(VALIDATOR.validate(bad, null)).extracting(Violation::field)
                .containsExactlyInAnyOrder("spec.lora.rank", "spec.storage.bucket", "spec.training");
    }

    @Test
    void ignoresStatusBecauseItIsWrittenThroughItsSubresource() {
        GenericKubernetesResource withStatus = run();
        withStatus.getAdditionalProperties().put("status", Map.of("phase", "NotAPhase"));

        assertThat(VALIDATOR.validate(withStatus, null)).isEmpty();
    }

    @Test
    void validatesTypedResourcesAsTheOperatorHoldsThem() {
        FederatedRun run = new FederatedRun();
        run.setMetadata(new ObjectMetaBuilder().withName("typed").build());
        FederatedRunSpec spec = new FederatedRunSpec();
        spec.baseModel = new BaseModelSpec();
        spec.baseModel.uri = "s3://models/base/";
        spec.rounds = 3;
        spec.storage = new StorageSpec();
        spec.storage.endpoint = "http://minio:9000";
        spec.storage.bucket = "runs";
        spec.storage.credentialsSecret = new SecretKeys("creds");
        run.setSpec(spec);
        assertThat(VALIDATOR.validate(run, null)).isEmpty();

        spec.lora.rank = 512;
        assertThat(VALIDATOR.validate(run, null)).extracting(Violation::message)
                .containsExactly("spec.lora.rank: must be at most 256 (got 512)");

        ClientShard shard = new ClientShard();
        shard.setMetadata(new ObjectMetaBuilder().withName("typed").build());
        shard.setSpec(new ClientShardSpec());
        shard.getSpec().data = new ShardDataSpec();
        shard.getSpec().data.credentialsSecret = new SecretKeys("data");
        shard.getSpec().data.train = new DatasetRef("s3://silo/train.jsonl", null);
        assertThat(VALIDATOR.validate(shard, null)).isEmpty();
    }

    @Test
    void refusesKindsItHasNoSchemaFor() {
        GenericKubernetesResource secret = Resources.parse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");

        assertThat(VALIDATOR.handles(secret)).isFalse();
        assertThat(VALIDATOR.handles(run())).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VALIDATOR.validate(secret, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no CRD schema for v1 Secret");
    }
}
