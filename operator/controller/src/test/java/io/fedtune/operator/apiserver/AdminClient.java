package io.fedtune.operator.apiserver;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fedtune.strictapi.StrictDispatcher;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Produces the {@link Admin} client: the application client's configuration with an administrator's token. */
@ApplicationScoped
public class AdminClient {
    static final String TOKEN = "fedtune-strict-admin-token";

    @Produces
    @Singleton
    @Admin
    KubernetesClient admin(KubernetesClient operator) {
        if (!StrictDispatcher.OPERATOR_TOKEN.equals(operator.getConfiguration().getOauthToken())) {
            throw new IllegalStateException("the test profile must give the operator's client the strict world's operator token");
        }
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder(operator.getConfiguration()).withOauthToken(TOKEN)
                .withAutoOAuthToken(null).build()).build();
    }

    void close(@Disposes @Admin KubernetesClient admin) {
        admin.close();
    }
}
