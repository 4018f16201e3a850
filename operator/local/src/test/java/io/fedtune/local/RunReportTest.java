package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report is written whatever state storage is in, and says what it could not read. */
class RunReportTest {

    @Test
    void withRunStorageStoppedTheReportIsWrittenAndNamesWhatItCouldNotRead(@TempDir Path tmp) throws Exception {
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        S3Silo storage = S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "run", "run-secret", tmp.resolve("s3"));
        storage.close();
        FederatedRun run = twoRoundRun(endpoint);

        Path report = RunReport.write(run, Map.of("in-domain", 2.5), new ReportStorage(storage.client(), endpoint),
                tmp.resolve("report.html"));

        String html = Files.readString(report);
        assertThat(html).contains("FederatedRun r").contains("<svg").contains("Not in this report");
        assertThat(html)
                .contains("round 2 global eval: storage unreachable at " + endpoint + ": Connection refused")
                .contains("round 1 shard train losses: storage unreachable at " + endpoint + ": Connection refused");
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
