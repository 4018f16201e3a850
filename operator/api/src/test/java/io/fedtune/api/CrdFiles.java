package io.fedtune.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The committed CRD files: what the fabric8 generator writes at build time, with printer columns in the order the
 * resource classes declare them (the generator sorts them by name, which would put Age first).
 */
final class CrdFiles {
    static final List<Class<?>> KINDS = List.of(FederatedRun.class, ClientShard.class);
    static final String REFRESH_COMMAND = "mvn -q -pl operator/api test -Dtest=CrdDriftTest -Dfedtune.crds.write=true";

    private CrdFiles() {
    }

    /** File name of a kind's CRD in crds/ and in the chart. */
    static String fileName(Class<?> kind) {
        return crdName(kind) + ".yaml";
    }

    static String render(Class<?> kind) {
        CustomResourceDefinition crd = generated(kind);
        List<String> order = Arrays.stream(kind.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name).toList();
        crd.getSpec().getVersions().forEach(v -> v.getAdditionalPrinterColumns()
                .sort(Comparator.comparingInt((CustomResourceColumnDefinition c) -> order.indexOf(c.getName()))));
        return "# Generated from " + kind.getName() + " by the fabric8 CRD generator. Do not edit: run\n#   "
                + REFRESH_COMMAND + "\n" + Serialization.asYaml(crd).replaceFirst("^---\n", "");
    }

    static CustomResourceDefinition generated(Class<?> kind) {
        String resource = "/META-INF/fabric8/" + crdName(kind) + "-v1.yml";
        try (InputStream in = CrdFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " missing: the crd-generator-maven-plugin runs in process-classes");
            }
            return Serialization.unmarshal(in, CustomResourceDefinition.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String crdName(Class<?> kind) {
        Map<Class<?>, String> plural = Map.of(FederatedRun.class, "federatedruns", ClientShard.class, "clientshards");
        return plural.get(kind) + "." + FederatedRun.GROUP;
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("crds")) ) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("crds/ not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
