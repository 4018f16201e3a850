package io.fedtune.local;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.ShardCounts;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Live progress of a run, in the spirit of `kubectl get -w`: a row whenever what it shows changes, with a bar for the
 * round's trainers. Driven by watch events on the run.
 */
public final class ProgressView {
    private static final String HEADER = "%-8s %-22s %-10s %-7s %-12s %-10s %-10s %s";

    private final KubernetesClient client;
    private final String namespace;
    private final String run;
    private final PrintStream out;
    private final EvalMetric metric;
    private final Instant start = Instant.now();
    private String lastRow;

    public ProgressView(KubernetesClient client, String namespace, String run, PrintStream out) {
        this(client, namespace, run, out, EvalMetric.Loss);
    }

    /** @param metric the primary eval set's ranking metric, which the EVAL and BEST columns show */
    public ProgressView(KubernetesClient client, String namespace, String run, PrintStream out, EvalMetric metric) {
        this.client = client;
        this.namespace = namespace;
        this.run = run;
        this.out = out;
        this.metric = metric;
    }

    /** The primary eval set's ranking metric of a run (Loss without eval sets). */
    public static EvalMetric primaryMetric(FederatedRun run) {
        var eval = run.getSpec().evaluation;
        return eval == null || eval.datasets.isEmpty() ? EvalMetric.Loss : eval.datasets.get(0).rankingMetric();
    }

    /** Prints progress until the run succeeds or fails, or the timeout passes; returns the last status seen. */
    public FederatedRun follow(Duration timeout) throws InterruptedException {
        out.println(String.format(Locale.ROOT, HEADER, "ELAPSED", "NAME", "PHASE", "ROUND", "STAGE",
                "EVAL-" + metric.name().toUpperCase(Locale.ROOT), "BEST", "TRAINERS"));
        CountDownLatch finished = new CountDownLatch(1);
        Runnable refresh = () -> {
            FederatedRun r = client.resources(FederatedRun.class).inNamespace(namespace).withName(run).get();
            if (r != null) {
                render(r);
                if (isFinished(r)) {
                    finished.countDown();
                }
            }
        };
        try (var runs = client.resources(FederatedRun.class).inNamespace(namespace).withName(run).inform(new OnChange<>(refresh))) {
            finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        return client.resources(FederatedRun.class).inNamespace(namespace).withName(run).get();
    }

    static boolean isFinished(FederatedRun r) {
        Phase phase = r.getStatus() == null ? null : r.getStatus().phase;
        return phase == Phase.Succeeded || phase == Phase.Failed;
    }

    private synchronized void render(FederatedRun r) {
        FederatedRunStatus s = r.getStatus() == null ? new FederatedRunStatus() : r.getStatus();
        String row = String.format(Locale.ROOT, "%-22s %-10s %-7s %-12s %-10s %-10s %s",
                r.getMetadata().getName(), orDash(s.phase), orDash(s.progress), orDash(s.stage),
                score(s.latestAdapter), score(s.bestAdapter),
                trainerBar(s));
        if (!Objects.equals(row, lastRow)) {
            lastRow = row;
            Duration elapsed = Duration.between(start, Instant.now());
            out.printf(Locale.ROOT, "%-8s %s%n", String.format(Locale.ROOT, "%d:%02d", elapsed.toMinutes(), elapsed.toSecondsPart()), row);
        }
    }

    /** The round's trainers as the operator counts them in status.shards. */
    private static String trainerBar(FederatedRunStatus s) {
        ShardCounts c = s.shards;
        if (c == null || c.selected == null || c.selected == 0) {
            return "";
        }
        int done = c.succeeded == null ? 0 : c.succeeded;
        int width = 12;
        int filled = width * done / c.selected;
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + c.selected + " trained"
                + (c.running != null && c.running > 0 ? ", " + c.running + " in progress" : "")
                + (c.failed != null && c.failed > 0 ? ", " + c.failed + " failed" : "");
    }

    private static String orDash(Object v) {
        return v == null ? "-" : v.toString();
    }

    /** The adapter's value of the primary metric: its evalScore, or its evalLoss where the metric is Loss. */
    private String score(AdapterRef a) {
        Double v = a == null ? null : a.evalScore != null && metric.name().equals(a.evalMetric) ? a.evalScore
                : metric == EvalMetric.Loss ? a.evalLoss : null;
        return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private record OnChange<T>(Runnable action) implements io.fabric8.kubernetes.client.informers.ResourceEventHandler<T> {
        @Override
        public void onAdd(T obj) {
            action.run();
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            action.run();
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            action.run();
        }
    }
}
