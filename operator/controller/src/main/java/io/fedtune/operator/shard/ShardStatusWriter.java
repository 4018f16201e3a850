package io.fedtune.operator.shard;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ClientShardStatus;
import io.fedtune.operator.round.DeviceUse;
import java.net.HttpURLConnection;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Writes a shard's participation fields (lastRun .. consecutiveFailures, device, precision, cache, lastSelectedRound); the
 * ClientShardReconciler owns observedGeneration and conditions. editStatus patches only the fields that changed, so the two owners never
 * overwrite each other. lastSelectedRound makes a repeated write after an operator restart a no-op.
 */
public class ShardStatusWriter implements ShardParticipation {
    private static final Logger LOG = Logger.getLogger(ShardStatusWriter.class);
    private static final int ATTEMPTS = 3;
    private final KubernetesClient client;

    public ShardStatusWriter(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public void trained(String namespace, String shard, String run, int round, TrainResult result) {
        write(namespace, shard, run, round, s -> {
            s.lastRound = round;
            s.samples = result.samples();
            s.trainLoss = result.trainLoss();
            s.evalLossBefore = result.evalLossBefore();
            s.evalLossAfter = result.evalLossAfter();
            s.evalMetric = result.evalMetric();
            s.evalBefore = result.evalBefore();
            s.evalAfter = result.evalAfter();
            s.lastAdapter = result.adapter();
            s.device = DeviceUse.word(result.device());
            s.precision = DeviceUse.word(result.precision());
            s.cache = DeviceUse.word(result.cache());
            s.consecutiveFailures = 0;
        });
    }

    @Override
    public void failed(String namespace, String shard, String run, int round) {
        write(namespace, shard, run, round,
                s -> s.consecutiveFailures = (s.consecutiveFailures == null ? 0 : s.consecutiveFailures) + 1);
    }

    private void write(String namespace, String shard, String run, int round, java.util.function.Consumer<ClientShardStatus> change) {
        for (int i = 1; i <= ATTEMPTS; i++) {
            try {
                client.resources(ClientShard.class).inNamespace(namespace).withName(shard).editStatus(current -> {
                    ClientShardStatus s = current.getStatus() != null ? current.getStatus() : new ClientShardStatus();
                    if (Objects.equals(s.lastRun, run) && s.lastSelectedRound != null && s.lastSelectedRound >= round) {
                        return current;
                    }
                    change.accept(s);
                    s.lastRun = run;
                    s.lastSelectedRound = round;
                    current.setStatus(s);
                    return current;
                });
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    return;
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || i == ATTEMPTS) {
                    LOG.warnf("could not record round %d of %s on ClientShard %s/%s: %s", round, run, namespace, shard, e.getMessage());
                    return;
                }
            }
        }
    }
}
