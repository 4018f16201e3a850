package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.LocalEval;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.minio.MinioClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report is written whatever state storage is in, and says what it could not read; it shows every eval set's
 * metrics per round, each shard's local evaluation and the side-by-side generations from what it is given.
 */
class RunReportTest {
    private static final String CELL = "<td style=\"text-align:left;white-space:pre-wrap;vertical-align:top\">";

    @Test
    void withRunStorageStoppedTheReportIsWrittenAndNamesWhatItCouldNotRead(@TempDir Path tmp) throws Exception {
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        S3Silo storage = S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "run", "run-secret", tmp.resolve("s3"));
        storage.close();
        FederatedRun run = twoRoundRun(endpoint);

        Path report = RunReport.write(run, Map.of("in-domain", Map.of("Loss", 2.5)), null, new ReportStorage(storage.client(), endpoint),
                tmp.resolve("report.html"));

        String html = Files.readString(report);
        assertThat(html).contains("FederatedRun r").contains("<svg").contains("Not in this report");
        assertThat(html)
                .contains("round 2 global eval: storage unreachable at " + endpoint + ": Connection refused")
                .contains("round 1 shard train losses: storage unreachable at " + endpoint + ": Connection refused");
    }

    @Test
    void everyEvalSetsMetricsPerRoundAndEachShardsLocalEvaluationAreInTheReport(@TempDir Path tmp) throws Exception {
        FederatedRun run = taskRun();

        String html = Files.readString(RunReport.write(run, Map.of("in-domain", Map.of("Loss", 4.4699)), null, noStorage(), tmp.resolve("r.html")));

        assertThat(html).contains("<h3>in-domain <small>(LanguageModeling)</small></h3><table><tr><th>round</th>"
                        + "<th>Loss</th><th>Perplexity</th></tr>"
                        + "<tr><td>0 (base)</td><td>4.4699</td><td>-</td></tr>"
                        + "<tr><td>1</td><td>4.2833</td><td>72.4745</td></tr>"
                        + "<tr><td>2</td><td>4.2169</td><td>67.8188</td></tr></table>")
                .contains("<h3>book-in-domain <small>(MultipleChoice)</small></h3><table><tr><th>round</th>"
                        + "<th>Accuracy</th><th>AccuracyNorm</th><th>Loss</th></tr>"
                        + "<tr><td>1</td><td>0.2500</td><td>0.3000</td><td>3.1000</td></tr>"
                        + "<tr><td>2</td><td>0.3000</td><td>0.3500</td><td>3.0000</td></tr></table>")
                .contains("<h3>continue-in-domain <small>(Generation)</small></h3><table><tr><th>round</th>"
                        + "<th>ExactMatch</th><th>RougeL</th><th>Loss</th></tr>"
                        + "<tr><td>1</td><td>0.0000</td><td>0.1200</td><td>4.0000</td></tr>"
                        + "<tr><td>2</td><td>0.0333</td><td>0.1500</td><td>3.9000</td></tr></table>")
                // a set the history has nothing for is named, not left out
                .contains("<h3>continue-out-of-domain <small>(Generation)</small></h3><p>No scores reported for this set.</p>");
        // each set's chart plots its ranking metric
        assertThat(html).contains(">AccuracyNorm</text>").contains(">RougeL</text>");
        assertThat(html).contains("<h2>Local evaluation per shard</h2>")
                .contains("<tr><td>1</td><td>a</td><td>Loss</td><td>4.3000</td><td>4.1000</td><td>-0.2000</td></tr>")
                .contains("<tr><td>2</td><td>b</td><td>Loss</td><td>4.2500</td><td>4.3000</td><td>+0.0500</td></tr>");
        assertThat(html).contains("Best adapter: <code>s3://runs/r/round-2</code> (round 2, Loss 4.2169).");
    }

    @Test
    void theSideBySideSectionShowsBothModelsCompletionOfEachPrompt(@TempDir Path tmp) throws Exception {
        FederatedRun run = taskRun();
        SideBySide generations = new SideBySide(run.getStatus().result, 24, List.of(
                new SideBySide.Row("And the LORD spake unto Moses, saying,", " Speak unto the children of Israel",
                        " Speak unto Aaron & his sons"),
                new SideBySide.Row("The machine was", "\n\nAnd the LORD", " <b>not</b>")), null);

        String html = Files.readString(RunReport.write(run, Map.of(), generations, noStorage(), tmp.resolve("r.html")));

        assertThat(html).contains("<h2>Base model and result side by side</h2><p>Greedy, at most 24 new tokens, ending at EOS; "
                        + "the result is <code>s3://runs/r/final</code> (round 2).</p>")
                .contains("<tr><th>prompt</th><th>base model</th><th>result</th></tr>")
                .contains(">And the LORD spake unto Moses, saying,</td>" + CELL + " Speak unto the children of Israel</td>"
                        + CELL + " Speak unto Aaron &amp; his sons</td></tr>")
                .contains(CELL + "\n\nAnd the LORD</td>" + CELL + " &lt;b&gt;not&lt;/b&gt;</td>");
        assertThat(RunSummary.generations(generations)).containsExactly(
                "Side by side, greedy, 24 new tokens at most (¶: a verse break): the base model, then the result (round 2)",
                "  And the LORD spake unto Moses, saying,",
                "    base:   Speak unto the children of Israel",
                "    result: Speak unto Aaron & his sons",
                "  The machine was",
                "    base:   ¶ And the LORD",
                "    result: <b>not</b>");
    }

    @Test
    void aRunWithoutAResultHasOneLineSayingWhyThereIsNoSideBySide(@TempDir Path tmp) throws Exception {
        FederatedRun run = taskRun();
        run.getStatus().phase = Phase.Failed;
        run.getStatus().result = null;
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "In the beginning\n");

        SideBySide generations = SideBySide.of(run, prompts, tmp.resolve("no-trainer.jar"), tmp, tmp, tmp);

        assertThat(generations.skipped()).isEqualTo("the run published no adapter (phase Failed)");
        assertThat(Files.readString(RunReport.write(run, Map.of(), generations, noStorage(), tmp.resolve("r.html"))))
                .contains("<h2>Base model and result side by side</h2><p>Skipped: the run published no adapter (phase Failed).</p>");
        assertThat(RunSummary.generations(generations))
                .containsExactly("Side by side generations skipped: the run published no adapter (phase Failed)");
    }

    @Test
    void theSummaryNamesThePrimaryMetricAndGivesEverySetsLastRound() throws Exception {
        FederatedRun run = taskRun();

        List<String> lines = RunSummary.lines(run, Map.of("in-domain", Map.of("Loss", 4.4699)), null);

        assertThat(lines).contains(
                "in-domain (LanguageModeling): base model Loss 4.4699 -> after round 2 Loss 4.2169, Perplexity 67.8188",
                "book-in-domain (MultipleChoice): after round 2 Accuracy 0.3000, AccuracyNorm 0.3500, Loss 3.0000",
                "continue-in-domain (Generation): after round 2 ExactMatch 0.0333, RougeL 0.1500, Loss 3.9000",
                "continue-out-of-domain (Generation): no scores reported",
                "Local evaluation in round 2 (global before -> local after): a Loss 4.2000 -> 4.0500, b Loss 4.2500 -> 4.3000",
                "Best: round 2, Loss 4.2169");
        assertThat(lines).anyMatch(l -> l.startsWith("Result (status.result): s3://runs/r/final (the best global adapter, "
                + "round 2, Loss 4.2169, sha256 "));

        run.getStatus().bestAdapter.evalMetric = "AccuracyNorm";
        run.getStatus().bestAdapter.evalScore = 0.35;
        assertThat(RunSummary.lines(run, Map.of(), null)).contains("Best: round 2, AccuracyNorm 0.3500");
    }

    /** Storage nothing listens on: the sections from status render all the same. */
    private static ReportStorage noStorage() throws Exception {
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        return new ReportStorage(MinioClient.builder().endpoint(endpoint).credentials("k", "s").build(), endpoint);
    }

    /** Two rounds with every task's metrics on three sets (a fourth reports nothing) and two shards' local evaluations. */
    private static FederatedRun taskRun() throws Exception {
        FederatedRun run = (FederatedRun) Manifests.parse("""
                apiVersion: fedtune.io/v1alpha1
                kind: FederatedRun
                metadata: {name: r, namespace: team}
                spec:
                  rounds: 2
                  baseModel: {uri: s3://models/base}
                  storage: {endpoint: "http://127.0.0.1:1", bucket: runs, credentialsSecret: {name: run-s3}}
                  evaluation:
                    datasets:
                      - {name: in-domain, uri: s3://runs/eval/in.jsonl}
                      - {name: book-in-domain, uri: s3://runs/eval/book.jsonl, task: MultipleChoice}
                      - {name: continue-in-domain, uri: s3://runs/eval/cont.jsonl, task: Generation, maxNewTokens: 24}
                      - {name: continue-out-of-domain, uri: s3://runs/eval/cont-ood.jsonl, task: Generation}
                """).get(0);
        FederatedRunStatus status = new FederatedRunStatus();
        status.phase = Phase.Succeeded;
        status.completedRounds = 2;
        double[][] inDomain = {{4.2833, 72.4745}, {4.2169, 67.8188}};
        double[][] book = {{0.25, 0.30, 3.1}, {0.30, 0.35, 3.0}};
        double[][] cont = {{0.0, 0.12, 4.0}, {1 / 30.0, 0.15, 3.9}};
        for (int round = 1; round <= 2; round++) {
            RoundSummary r = new RoundSummary();
            r.round = round;
            r.participants = List.of("a", "b");
            r.evalMetric = "Loss";
            r.globalEvalLoss = inDomain[round - 1][0];
            r.globalEvalScore = inDomain[round - 1][0];
            r.evalLosses = Map.of("in-domain", inDomain[round - 1][0]);
            r.evalScores.put("in-domain", Map.of("Loss", inDomain[round - 1][0], "Perplexity", inDomain[round - 1][1]));
            r.evalScores.put("book-in-domain", Map.of("Accuracy", book[round - 1][0], "AccuracyNorm", book[round - 1][1],
                    "Loss", book[round - 1][2]));
            r.evalScores.put("continue-in-domain", Map.of("ExactMatch", cont[round - 1][0], "RougeL", cont[round - 1][1],
                    "Loss", cont[round - 1][2]));
            r.localEvals = round == 1
                    ? List.of(new LocalEval("a", "Loss", 4.3, 4.1), new LocalEval("b", "Loss", 4.35, 4.2))
                    : List.of(new LocalEval("a", "Loss", 4.2, 4.05), new LocalEval("b", "Loss", 4.25, 4.3));
            status.history.add(r);
        }
        AdapterRef best = new AdapterRef("s3://runs/r/round-2", 2, "ab12", 4.2169);
        best.evalMetric = "Loss";
        best.evalScore = 4.2169;
        status.bestAdapter = best;
        AdapterRef result = new AdapterRef("s3://runs/r/final", 2, "ab12", 4.2169);
        result.evalMetric = "Loss";
        result.evalScore = 4.2169;
        status.result = result;
        run.setStatus(status);
        return run;
    }

    private static FederatedRun twoRoundRun(String endpoint) throws Exception {
        FederatedRun run = (FederatedRun) Manifests.parse("""
                apiVersion: fedtune.io/v1alpha1
                kind: FederatedRun
                metadata: {name: r, namespace: team}
                spec:
                  rounds: 2
                  baseModel: {uri: s3://models/base}
                  storage: {endpoint: "%s", bucket: runs, credentialsSecret: {name: run-s3}}
                """.formatted(endpoint)).get(0);
        FederatedRunStatus status = new FederatedRunStatus();
        status.phase = Phase.Succeeded;
        status.completedRounds = 2;
        for (int round = 1; round <= 2; round++) {
            RoundSummary r = new RoundSummary();
            r.round = round;
            r.participants = List.of("a", "b");
            r.evalLosses = Map.of("in-domain", 2.4 - 0.1 * round);
            status.history.add(r);
        }
        run.setStatus(status);
        return run;
    }
}
