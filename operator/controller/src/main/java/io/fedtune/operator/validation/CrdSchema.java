package io.fedtune.operator.validation;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * One kind's openAPIV3Schema, read from the CRD that the fabric8 generator put into the fedtune-api jar, so the operator
 * checks against exactly what the cluster was given.
 *
 * @param kind       e.g. FederatedRun
 * @param apiVersion e.g. fedtune.io/v1alpha1
 * @param root       the version's openAPIV3Schema
 */
record CrdSchema(String kind, String apiVersion, JSONSchemaProps root) {

    static CrdSchema of(Class<? extends HasMetadata> type) {
        String resource = "/META-INF/fabric8/" + HasMetadata.getFullResourceName(type) + "-v1.yml";
        CustomResourceDefinition crd;
        try (InputStream in = type.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("CRD " + resource + " is not on the classpath: is the fedtune-api jar built?");
            }
            crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = HasMetadata.getVersion(type);
        CustomResourceDefinitionVersion served = crd.getSpec().getVersions().stream()
                .filter(v -> v.getName().equals(version))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(resource + " has no version " + version));
        return new CrdSchema(HasMetadata.getKind(type), HasMetadata.getApiVersion(type), served.getSchema().getOpenAPIV3Schema());
    }
}
