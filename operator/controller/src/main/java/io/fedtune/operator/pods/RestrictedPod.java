package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.PodOverrides;
import io.fedtune.api.v1alpha1.SecretKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pod that keeps the trainer contract and the restricted Pod Security Standard: non-root, no privilege escalation, all
 * capabilities dropped, seccomp RuntimeDefault, read-only root with an emptyDir scratch volume, no service-account token.
 */
final class RestrictedPod {
    static final String SCRATCH_VOLUME = "scratch";

    private RestrictedPod() {
    }

    static Pod build(FederatedRun run, String name, Map<String, String> labels, String role, String containerName,
            List<EnvVar> env, PodOverrides settings, String defaultImage) {
        List<EnvVar> allEnv = new ArrayList<>();
        allEnv.add(plain(TrainerEnv.ROLE, role));
        allEnv.addAll(env);
        allEnv.add(plain(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
        allEnv.add(plain(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));

        Container container = new ContainerBuilder()
                .withName(containerName)
                .withImage(settings.image != null ? settings.image : defaultImage)
                .withImagePullPolicy(settings.imagePullPolicy)
                .withArgs(role)
                .withEnv(allEnv)
                .withResources(settings.resources)
                .withTerminationMessagePath(TrainerEnv.DEFAULT_TERMINATION_LOG)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .addNewVolumeMount().withName(SCRATCH_VOLUME).withMountPath(TrainerEnv.DEFAULT_WORK_DIR).endVolumeMount()
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
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withSeccompProfile(runtimeDefault())
                .endSecurityContext()
                .addNewVolume().withName(SCRATCH_VOLUME).withNewEmptyDir().endEmptyDir().endVolume()
                .withContainers(container)
                .endSpec()
                .build();
    }

    static EnvVar plain(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    /** Credentials reach the pod only as secretKeyRefs: the operator never reads a Secret. */
    static List<EnvVar> secretRefs(SecretKeys secret, String accessKeyVar, String secretKeyVar) {
        return List.of(secretRef(accessKeyVar, secret.name, secret.accessKeyIdKey),
                secretRef(secretKeyVar, secret.name, secret.secretAccessKeyKey));
    }

    private static EnvVar secretRef(String var, String secret, String key) {
        return new EnvVarBuilder().withName(var)
                .withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key).endSecretKeyRef().endValueFrom()
                .build();
    }

    private static SeccompProfile runtimeDefault() {
        return new SeccompProfile(null, "RuntimeDefault");
    }
}
