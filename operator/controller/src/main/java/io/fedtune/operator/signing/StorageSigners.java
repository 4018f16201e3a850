package io.fedtune.operator.signing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.fedtune.api.contract.ContractJson;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The storage endpoints this operator signs for (operator property {@code fedtune.signers}, env {@code FEDTUNE_SIGNERS}):
 * a JSON list of {@code {"endpoint", "region", "dir"}}, each dir a signing credential the chart mounted into the
 * operator's own pod ({@link SigningKeys}). Trainer pods get URLs presigned with it and no credential of their own.
 */
public final class StorageSigners {
    /** S3's region when a signer names none (MinIO's and s3proxy's default). */
    public static final String DEFAULT_REGION = "us-east-1";

    /** One configured signer, as the chart writes it into FEDTUNE_SIGNERS. */
    public record Signer(String endpoint, String region, String dir) {
    }

    private final Map<String, Signer> byEndpoint;
    private final Clock clock;

    private StorageSigners(List<Signer> signers, Clock clock) {
        this.clock = clock;
        this.byEndpoint = new HashMap<>();
        for (Signer s : signers) {
            if (s == null || s.endpoint() == null || s.dir() == null) {
                throw new IllegalArgumentException("fedtune.signers: every signer needs an endpoint and a dir");
            }
            if (byEndpoint.put(normalize(s.endpoint()), s) != null) {
                throw new IllegalArgumentException("fedtune.signers: two signers for " + s.endpoint());
            }
        }
    }

    public static StorageSigners of(List<Signer> signers, Clock clock) {
        return new StorageSigners(signers, clock);
    }

    public static StorageSigners none() {
        return of(List.of(), Clock.systemUTC());
    }

    /** Reads the operator property; blank is no signer. */
    public static StorageSigners parse(String json, Clock clock) {
        if (json == null || json.isBlank()) {
            return of(List.of(), clock);
        }
        try {
            return of(ContractJson.mapper().readValue(json, new TypeReference<List<Signer>>() { }), clock);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("fedtune.signers (FEDTUNE_SIGNERS) is not a JSON list of "
                    + "{\"endpoint\", \"region\", \"dir\"}: " + e.getOriginalMessage());
        }
    }

    public boolean signs(String endpoint) {
        return endpoint != null && byEndpoint.containsKey(normalize(endpoint));
    }

    /** The presigner for a run's storage endpoint, if this operator has a signer for it. */
    public Optional<Presigner> forEndpoint(String endpoint) {
        if (endpoint == null) {
            return Optional.empty();
        }
        Signer s = byEndpoint.get(normalize(endpoint));
        if (s == null) {
            return Optional.empty();
        }
        Path dir = Path.of(s.dir());
        return Optional.of(new Presigner(URI.create(endpoint), s.region() != null ? s.region() : DEFAULT_REGION,
                () -> SigningKeys.read(dir), clock));
    }

    /** Scheme and host in lower case, the port written out, no trailing slash: http://MinIO:9000/ is http://minio:9000. */
    static String normalize(String endpoint) {
        URI uri = URI.create(endpoint.strip());
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(scheme) ? 443 : "http".equals(scheme) ? 80 : -1;
        String host = uri.getHost() == null ? endpoint.strip() : uri.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + ":" + port;
    }
}
