package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.SecretKeys;
import io.fedtune.api.v1alpha1.StorageSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * How a pod reaches the run's storage. A server pod (aggregation): keys from the run's Secret (secretKeyRefs, never read
 * by the operator) or a projected ServiceAccount token and a role to assume with it (workload identity). A trainer pod:
 * no credential at all, only the presigned URLs in its task. Both: the CA bundle of a private CA, to trust the endpoint.
 */
final class StorageAccess {
    static final String CA_VOLUME = "storage-ca";
    static final String TOKEN_VOLUME = "storage-token";
    /** Lifetime of the projected token; the kubelet renews it at 80%, so a long round keeps a valid one. */
    static final long TOKEN_SECONDS = 3600;

    private final StorageSpec storage;
    private final boolean credentials;

    private StorageAccess(StorageSpec storage, boolean credentials) {
        this.storage = storage;
        this.credentials = credentials;
    }

    /** The run's credentials and the CA bundle: the aggregation pod, the server of the run. */
    static StorageAccess server(StorageSpec storage) {
        return new StorageAccess(storage, true);
    }

    /** The CA bundle only: a trainer pod reaches the run's storage through the presigned URLs of its task. */
    static StorageAccess trainer(StorageSpec storage) {
        return new StorageAccess(storage, false);
    }

    List<EnvVar> env() {
        List<EnvVar> env = new ArrayList<>();
        if (credentials && storage.credentialsSecret != null) {
            env.addAll(secretRefs(storage.credentialsSecret, TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY,
                    TrainerEnv.STORAGE_SESSION_TOKEN));
        }
        if (credentials && storage.webIdentity != null) {
            env.add(plain(TrainerEnv.AWS_ROLE_ARN, storage.webIdentity.roleArn));
            env.add(plain(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE,
                    TrainerEnv.DEFAULT_WEB_IDENTITY_TOKEN_DIR + "/" + TrainerEnv.WEB_IDENTITY_TOKEN_FILE_NAME));
        }
        if (storage.caBundle != null) {
            env.add(plain(TrainerEnv.STORAGE_CA_FILE, TrainerEnv.DEFAULT_STORAGE_CA_DIR + "/" + storage.caBundle.key));
        }
        return env;
    }

    List<Volume> volumes() {
        List<Volume> volumes = new ArrayList<>();
        if (credentials && storage.webIdentity != null) {
            volumes.add(new VolumeBuilder().withName(TOKEN_VOLUME).withNewProjected().addNewSource().withNewServiceAccountToken()
                    .withAudience(storage.webIdentity.audience).withExpirationSeconds(TOKEN_SECONDS)
                    .withPath(TrainerEnv.WEB_IDENTITY_TOKEN_FILE_NAME).endServiceAccountToken().endSource().endProjected().build());
        }
        if (storage.caBundle != null) {
            volumes.add(new VolumeBuilder().withName(CA_VOLUME).withNewConfigMap().withName(storage.caBundle.name)
                    .addNewItem().withKey(storage.caBundle.key).withPath(storage.caBundle.key).endItem().endConfigMap().build());
        }
        return volumes;
    }

    List<VolumeMount> mounts() {
        List<VolumeMount> mounts = new ArrayList<>();
        if (credentials && storage.webIdentity != null) {
            mounts.add(readOnly(TOKEN_VOLUME, TrainerEnv.DEFAULT_WEB_IDENTITY_TOKEN_DIR));
        }
        if (storage.caBundle != null) {
            mounts.add(readOnly(CA_VOLUME, TrainerEnv.DEFAULT_STORAGE_CA_DIR));
        }
        return mounts;
    }

    /** Credentials reach the pod only as secretKeyRefs: the operator never reads a Secret. */
    static List<EnvVar> secretRefs(SecretKeys secret, String accessKeyVar, String secretKeyVar, String sessionTokenVar) {
        List<EnvVar> env = new ArrayList<>(List.of(secretRef(accessKeyVar, secret.name, secret.accessKeyIdKey),
                secretRef(secretKeyVar, secret.name, secret.secretAccessKeyKey)));
        if (secret.sessionTokenKey != null) {
            env.add(secretRef(sessionTokenVar, secret.name, secret.sessionTokenKey));
        }
        return env;
    }

    static EnvVar plain(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    private static EnvVar secretRef(String var, String secret, String key) {
        return new EnvVarBuilder().withName(var)
                .withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key).endSecretKeyRef().endValueFrom()
                .build();
    }

    private static VolumeMount readOnly(String volume, String path) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
    }
}
