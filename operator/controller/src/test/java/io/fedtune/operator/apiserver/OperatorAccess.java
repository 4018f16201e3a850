package io.fedtune.operator.apiserver;

import io.fedtune.strictapi.Permission;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the operator's code does through the API, one permission each, with where: the chart's ClusterRole must grant
 * exactly these (OperatorAccessTest), and the strict test API server refuses the operator anything the role lacks.
 * Adding an API call means adding it here and to the role; removing one means removing both.
 */
public final class OperatorAccess {
    public static final Map<Permission, String> USED = new TreeMap<>(Map.ofEntries(
            use("get federatedruns.fedtune.io", "JOSDK reads the run before patching its finalizer"),
            use("list federatedruns.fedtune.io", "the FederatedRun reconciler's informer"),
            use("watch federatedruns.fedtune.io", "the FederatedRun reconciler's informer"),
            use("patch federatedruns.fedtune.io", "JOSDK adds and removes the run's finalizer (FederatedRunReconciler is a Cleaner)"),
            use("update federatedruns.fedtune.io/finalizers", "ownerReferences with blockOwnerDeletion on pods and task ConfigMaps (RestrictedPod, AggregationPodBuilder)"),
            use("update federatedruns.fedtune.io/status", "FederatedRunReconciler: updateStatus"),
            use("get clientshards.fedtune.io", "editStatus reads the shard first (ShardStatusWriter, ClientShardReconciler)"),
            use("list clientshards.fedtune.io", "the ClientShard reconciler's informer and the run reconciler's shard informer"),
            use("watch clientshards.fedtune.io", "the ClientShard reconciler's informer and the run reconciler's shard informer"),
            use("patch clientshards.fedtune.io/status", "editStatus (ShardStatusWriter, ClientShardReconciler)"),
            use("create pods", "KubernetesRunPods.create"),
            use("delete pods", "KubernetesRunPods.delete: a finished round's pods, stragglers"),
            use("deletecollection pods", "KubernetesRunPods.deleteAllOf: a deleted run's pods, by label"),
            use("list pods", "the run reconciler's pod informer"),
            use("watch pods", "the run reconciler's pod informer"),
            use("create configmaps", "KubernetesRunPods.create: an aggregation attempt's task"),
            use("get configmaps", "KubernetesRunPods.configMap: the task of a retried or recorded aggregation"),
            use("delete configmaps", "KubernetesRunPods.delete: with its aggregation pod"),
            use("deletecollection configmaps", "KubernetesRunPods.deleteAllOf: a deleted run's task ConfigMaps, by label"),
            use("create events", "KubernetesEvents")));

    private OperatorAccess() {
    }

    public static Set<Permission> permissions() {
        return USED.keySet();
    }

    private static Map.Entry<Permission, String> use(String permission, String where) {
        return Map.entry(Permission.parse(permission), where);
    }
}
