package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.PodOverrides;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pod that keeps the trainer contract and the restricted Pod Security Standard: non-root, no privilege escalation, all
 * capabilities dropped, seccomp RuntimeDefault, read-only root with a size-limited emptyDir scratch volume, no
 * service-account token; the pod's storage access ({@link StorageAccess}: credentials for a server pod, none for a trainer), default resource requests, and the model cache
 * volume when the settings name one.
 */
final class RestrictedPod {
    static final String SCRATCH_VOLUME = "scratch";
    static final String CACHE_VOLUME = "model-cache";
    /**
     * The trainer image's uid (trainer-image/Dockerfile*): as fsGroup, the kubelet makes the cache volume writable by this
     * group and adds it to the container's groups, so any image's user can write the cache.
     */
    static final long CACHE_GROUP = 10001;

    private RestrictedPod() {
    }

    /** A server pod: it holds the run's storage credentials. */
    static Pod build(FederatedRun run, String name, Map<String, String> labels, String role, String containerName,
            List<EnvVar> env, PodOverrides settings, PodDefaults defaults) {
        return build(run, name, labels, role, containerName, env, settings, defaults, StorageAccess.server(run.getSpec().storage));
    }

    static Pod build(FederatedRun run, String name, Map<String, String> labels, String role, String containerName,
            List<EnvVar> env, PodOverrides settings, PodDefaults defaults, StorageAccess storage) {
        List<EnvVar> allEnv = new ArrayList<>();
        allEnv.add(plain(TrainerEnv.ROLE, role));
        allEnv.addAll(env);
        allEnv.addAll(storage.env());
        allEnv.add(plain(TrainerEnv.STORAGE_RETRY_SECONDS, String.valueOf(io.fedtune.operator.round.Durations
                .storageRetryTimeout(run.getSpec().participation).toSeconds())));
        allEnv.add(plain(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
        if (settings.cache != null) {
            allEnv.add(plain(TrainerEnv.CACHE_DIR, TrainerEnv.DEFAULT_CACHE_DIR));
        }
        allEnv.add(plain(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));

        String scratch = settings.scratchSize != null ? settings.scratchSize : defaults.scratchSize();
        Container container = new ContainerBuilder()
                .withName(containerName)
                .withImage(settings.image != null ? settings.image : defaults.image())
                .withImagePullPolicy(settings.imagePullPolicy)
                .withArgs(role)
                .withEnv(allEnv)
                .withResources(defaults.resources(settings.resources, scratch))
                .withTerminationMessagePath(TrainerEnv.DEFAULT_TERMINATION_LOG)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .addNewVolumeMount().withName(SCRATCH_VOLUME).withMountPath(TrainerEnv.DEFAULT_WORK_DIR).endVolumeMount()
                .addAllToVolumeMounts(storage.mounts())
                .addAllToVolumeMounts(cacheMounts(settings))
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true)
                .withCapabilities(new Capabilities(null, List.of("ALL")))
                .withSeccompProfile(runtimeDefault())
                .endSecurityContext()
                .build();

        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(run.getMetadata().getNamespace())
                .withLabels(labels)
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(run.getApiVersion())
                        .withKind(run.getKind())
                        .withName(run.getMetadata().getName())
                        .withUid(run.getMetadata().getUid())
                        .withController(true)
                        .withBlockOwnerDeletion(true)
                        .build())
                .endMetadata()
                .withNewSpec()
                .withRestartPolicy("Never")
                .withAutomountServiceAccountToken(false)
                .withServiceAccountName(settings.serviceAccountName)
                .withEnableServiceLinks(false)
                .withNodeSelector(settings.nodeSelector)
                .withTolerations(settings.tolerations)
                .withAffinity(settings.affinity)
                .withPriorityClassName(settings.priorityClassName)
                .withRuntimeClassName(settings.runtimeClassName)
                .withImagePullSecrets(settings.imagePullSecrets)
                .withSecurityContext(podSecurity(settings))
                .addNewVolume().withName(SCRATCH_VOLUME).withNewEmptyDir().withSizeLimit(new Quantity(scratch)).endEmptyDir().endVolume()
                .addAllToVolumes(storage.volumes())
                .addAllToVolumes(cacheVolumes(settings))
                .withContainers(container)
                .endSpec()
                .build();
    }

    /** fsGroup only with a cache: an emptyDir is writable without it, and pods without a cache stay as they were. */
    private static PodSecurityContext podSecurity(PodOverrides settings) {
        PodSecurityContextBuilder security = new PodSecurityContextBuilder().withRunAsNonRoot(true).withSeccompProfile(runtimeDefault());
        if (settings.cache != null) {
            // OnRootMismatch: a volume already owned by the group is not walked again on every pod start
            security.withFsGroup(CACHE_GROUP).withFsGroupChangePolicy("OnRootMismatch");
        }
        return security.build();
    }

    private static List<Volume> cacheVolumes(PodOverrides settings) {
        return settings.cache == null ? List.of() : List.of(new VolumeBuilder().withName(CACHE_VOLUME)
                .withNewPersistentVolumeClaim().withClaimName(settings.cache.persistentVolumeClaim).endPersistentVolumeClaim().build());
    }

    private static List<VolumeMount> cacheMounts(PodOverrides settings) {
        return settings.cache == null ? List.of()
                : List.of(new VolumeMountBuilder().withName(CACHE_VOLUME).withMountPath(TrainerEnv.DEFAULT_CACHE_DIR).build());
    }

    static EnvVar plain(String name, String value) {
        return StorageAccess.plain(name, value);
    }

    private static SeccompProfile runtimeDefault() {
        return new SeccompProfile(null, "RuntimeDefault");
    }
}
