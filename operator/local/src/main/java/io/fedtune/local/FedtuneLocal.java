package io.fedtune.local;

import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.validation.CrdSchemaValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `fedtune-local up DIR`: a federated fine-tuning run on this machine, with no cluster. */
@Command(name = "fedtune-local", mixinStandardHelpOptions = true, subcommands = FedtuneLocal.Up.class,
        description = "Runs fedtune on one machine: embedded Kubernetes API, S3 silos, local pod runner, the real operator.")
public final class FedtuneLocal {

    public static void main(String[] args) {
        System.exit(new CommandLine(new FedtuneLocal()).execute(args));
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Apply a folder of manifests (like examples/quickstart) and follow its FederatedRun to the end.")
    static final class Up implements Callable<Integer> {
        @Parameters(index = "0", defaultValue = "examples/quickstart", description = "Folder of YAML manifests. Default: ${DEFAULT-VALUE}")
        Path manifestsDir;

        @Option(names = "--data", description = "Local mirror of the objects the manifests reference (BUCKET/KEY). Default: <manifests>/data")
        Path dataDir;

        @Option(names = "--base-model", description = "Base model folder uploaded to spec.baseModel.uri. Default: trainer-image/base-model")
        Path baseModel;

        @Option(names = "--prompts", description = "Prompts, one per line, that the base model and the run's result complete "
                + "side by side after the run. Default: <manifests>/prompts.txt")
        Path prompts;

        @Option(names = "--work-dir", description = "Where S3 objects, pod logs and the report go. Default: .fedtune/<manifests folder name>")
        Path workDir;

        @Option(names = "--namespace", defaultValue = "default", description = "Namespace for resources that name none. Default: ${DEFAULT-VALUE}")
        String namespace;

        @Option(names = "--slots", description = "Pods that run at once. Default: the number of cores")
        Integer slots;

        @Option(names = "--timeout", defaultValue = "30m", description = "Give up after this long. Default: ${DEFAULT-VALUE}")
        String timeout;

        @Option(names = "--keep-running", description = "After the run ends, keep the API server and S3 up until Ctrl-C.")
        boolean keepRunning;

        @Override
        public Integer call() throws Exception {
            RepoLayout layout = RepoLayout.find();
            Path dir = manifestsDir.isAbsolute() ? manifestsDir : layout.root().resolve(manifestsDir);
            Path data = dataDir != null ? dataDir : dir.resolve("data");
            Path model = baseModel != null ? baseModel : layout.baseModel();
            // absolute: pods bind its folders, and bubblewrap would resolve a relative source from the pod's working dir
            Path work = (workDir != null ? workDir : layout.root().resolve(".fedtune").resolve(dir.getFileName().toString())).toAbsolutePath();
            Manifests manifests = Manifests.load(dir);
            FederatedRun run = manifests.runs().stream().findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no FederatedRun in " + dir));
            String ns = run.getMetadata().getNamespace() != null ? run.getMetadata().getNamespace() : namespace;
            System.out.println("fedtune local: " + manifests.shards().size() + " shards, run " + run.getMetadata().getName()
                    + ", " + run.getSpec().rounds + " rounds; work folder " + work);
            try (LocalCluster cluster = LocalCluster.start(layout, manifests, new CrdSchemaValidator(), data, model, work,
                    slots != null ? slots : Runtime.getRuntime().availableProcessors(),
                    line -> System.out.println("fedtune local: " + line))) {
                Path kubeconfig = cluster.api().writeKubeconfig(work.resolve("kubeconfig"));
                System.out.println("S3 silos: " + cluster.silos().stream().map(S3Silo::endpoint).toList()
                        + "; API server " + cluster.api().url() + " (kubeconfig: " + kubeconfig + ")");
                Map<String, Map<String, Double>> baseline = Baseline.of(run, layout.trainerJar(), model, data, work.resolve("djl-cache"));
                System.out.println("Base model: " + format(run, baseline));
                cluster.apply(manifests, ns);
                FederatedRun end = new ProgressView(cluster.client(), ns, run.getMetadata().getName(), System.out,
                        ProgressView.primaryMetric(run))
                        .follow(parse(timeout));
                SideBySide generations = SideBySide.of(end, prompts != null ? prompts : dir.resolve("prompts.txt"),
                        layout.trainerJar(), model, cluster.silo(run.getSpec().storage.endpoint).dataDir(), work.resolve("djl-cache"));
                RunSummary.lines(end, baseline, generations).forEach(System.out::println);
                Path report = RunReport.write(end, baseline, generations, cluster, work.resolve("report.html"));
                System.out.println("Report: " + report);
                writeJson(work.resolve("run.json"), end);
                writeJson(work.resolve("baseline.json"), baseline);
                System.out.println("Objects stay on disk under " + work.resolve("s3"));
                if (!cluster.api().refusals().isEmpty()) {
                    System.err.println("The API server refused " + cluster.api().refusals().size() + " request(s), as a cluster would:\n  "
                            + String.join("\n  ", cluster.api().refusals()));
                }
                if (keepRunning) {
                    System.out.println("Keeping the API server and S3 up; Ctrl-C to stop.");
                    Thread.currentThread().join();
                }
                return end != null && end.getStatus() != null && end.getStatus().phase == Phase.Succeeded ? 0 : 1;
            } catch (InvalidManifests | SiloRefused e) {
                System.err.println(e.getMessage());
                return 2;
            }
        }

        /** Each set's ranking metric, e.g. "in-domain Loss 4.4699, book-in-domain AccuracyNorm 0.2500". */
        private static String format(FederatedRun run, Map<String, Map<String, Double>> baseline) {
            StringBuilder b = new StringBuilder();
            for (io.fedtune.api.v1alpha1.EvalDataset set : run.getSpec().evaluation.datasets) {
                String metric = set.rankingMetric().name();
                b.append(b.length() == 0 ? "" : ", ").append(set.name).append(' ').append(metric).append(' ')
                        .append(fmt(baseline.getOrDefault(set.name, Map.of()).get(metric)));
            }
            return b.length() == 0 ? "no eval sets" : b.toString();
        }

        /** What the run ended as and the base model's scores, for scripts (examples/skew-experiment/compare.py). */
        private static void writeJson(Path file, Object value) throws java.io.IOException {
            java.nio.file.Files.writeString(file, io.fedtune.api.contract.ContractJson.mapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(value) + "\n");
        }

        private static String fmt(Double v) {
            return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
        }

        static Duration parse(String d) {
            return Duration.parse("PT" + d.toUpperCase(Locale.ROOT));
        }
    }

    static {
        // Quiet third-party logs; the progress table is the output.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils", "error");
    }

}
