package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The YAML documents of a folder (like `kubectl apply -f DIR`), typed, in the order they can be created. */
public record Manifests(List<HasMetadata> resources) {
    private static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory()).build();
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Map<String, Integer> CREATE_ORDER = Map.of("Namespace", 0, "Secret", 1, "ClientShard", 2, "FederatedRun", 3);

    /** Reads every *.yaml and *.yml file directly in the folder (not below it). */
    public static Manifests load(Path dir) throws IOException {
        List<HasMetadata> resources = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().matches(".*\\.ya?ml$")).sorted().toList()) {
                resources.addAll(parse(Files.readString(file)));
            }
        }
        resources.sort(Comparator.comparingInt(r -> CREATE_ORDER.getOrDefault(r.getKind(), 2)));
        return new Manifests(List.copyOf(resources));
    }

    static List<HasMetadata> parse(String yaml) throws IOException {
        List<HasMetadata> out = new ArrayList<>();
        try (var parser = YAML.createParser(yaml)) {
            for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                if (doc == null || doc.isNull() || doc.isEmpty()) {
                    continue;
                }
                String kind = doc.path("kind").asText();
                out.add(switch (kind) {
                    case "FederatedRun" -> SERIALIZATION.convertValue(doc, FederatedRun.class);
                    case "ClientShard" -> SERIALIZATION.convertValue(doc, ClientShard.class);
                    default -> SERIALIZATION.unmarshal(doc.toString());
                });
            }
        }
        return out;
    }

    public List<FederatedRun> runs() {
        return ofType(FederatedRun.class);
    }

    public List<ClientShard> shards() {
        return ofType(ClientShard.class);
    }

    public <T extends HasMetadata> List<T> ofType(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** A Secret's value by key, from data (base64) or stringData. */
    public String secretValue(String name, String key) {
        Secret secret = ofType(Secret.class).stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Secret " + name + " is referenced but not in the manifests"));
        if (secret.getStringData() != null && secret.getStringData().containsKey(key)) {
            return secret.getStringData().get(key);
        }
        if (secret.getData() != null && secret.getData().containsKey(key)) {
            return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
        }
        throw new IllegalArgumentException("Secret " + name + " has no key " + key);
    }
}
