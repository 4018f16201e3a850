package io.fedtune.local;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** The env a pod gives its container, as a kubelet resolves it: values, Secret keys from the API, and pod fields. */
final class PodEnvironment {
    private final KubernetesClient client;

    PodEnvironment(KubernetesClient client) {
        this.client = client;
    }

    /** @throws MissingSecret where a referenced Secret or key does not exist */
    Map<String, String> of(Pod pod) {
        Map<String, String> env = new LinkedHashMap<>();
        var container = pod.getSpec().getContainers().get(0);
        if (container.getEnv() == null) {
            return env;
        }
        for (EnvVar var : container.getEnv()) {
            if (var.getValueFrom() == null) {
                env.put(var.getName(), var.getValue() == null ? "" : var.getValue());
            } else if (var.getValueFrom().getSecretKeyRef() != null) {
                env.put(var.getName(), secretValue(pod.getMetadata().getNamespace(), var.getValueFrom().getSecretKeyRef()));
            } else if (var.getValueFrom().getFieldRef() != null) {
                String path = var.getValueFrom().getFieldRef().getFieldPath();
                env.put(var.getName(), switch (path) {
                    case "metadata.name" -> pod.getMetadata().getName();
                    case "metadata.namespace" -> pod.getMetadata().getNamespace();
                    case "metadata.uid" -> pod.getMetadata().getUid();
                    default -> "";
                });
            }
        }
        return env;
    }

    private String secretValue(String namespace, SecretKeySelector ref) {
        Secret secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        if (secret == null) {
            throw new MissingSecret("secret \"" + ref.getName() + "\" not found");
        }
        if (secret.getData() != null && secret.getData().containsKey(ref.getKey())) {
            return new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8);
        }
        if (secret.getStringData() != null && secret.getStringData().containsKey(ref.getKey())) {
            return secret.getStringData().get(ref.getKey());
        }
        throw new MissingSecret("couldn't find key " + ref.getKey() + " in Secret " + namespace + "/" + ref.getName());
    }
}
