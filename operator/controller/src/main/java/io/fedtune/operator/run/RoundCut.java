package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.operator.pods.PodLabels;
import java.util.List;

/** The end of a round's training as written on its aggregation pods: which selected shards did not deliver, and why. */
record RoundCut(List<String> failed, List<String> stragglers) {

    void annotate(Pod pod) {
        PodLabels.annotateCut(pod, failed, stragglers);
    }

    static RoundCut of(Pod aggregationPod) {
        return new RoundCut(PodLabels.failedShards(aggregationPod), PodLabels.stragglerShards(aggregationPod));
    }
}
