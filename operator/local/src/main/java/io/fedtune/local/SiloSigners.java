package io.fedtune.local;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the chart's storageSigners do in a cluster, for local mode: a signing credential for each run storage silo, in
 * files only this user can read, and the operator's FEDTUNE_SIGNERS naming them. Trainer pods then get presigned URLs
 * and no key of the run's storage.
 */
final class SiloSigners {
    static final String ENV = "FEDTUNE_SIGNERS";

    private SiloSigners() {
    }

    /** Writes dir/&lt;i&gt;/{access-key-id, secret-access-key} (0600) for each run's storage silo; FEDTUNE_SIGNERS. */
    static String write(Manifests manifests, List<S3Silo> silos, Path dir) throws IOException {
        Map<String, String> regions = new LinkedHashMap<>();
        for (FederatedRun run : manifests.runs()) {
            regions.putIfAbsent(run.getSpec().storage.endpoint, run.getSpec().storage.region);
        }
        List<Map<String, String>> signers = new ArrayList<>();
        for (var entry : regions.entrySet()) {
            S3Silo silo = silos.stream().filter(s -> s.endpoint().equals(entry.getKey())).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no silo serves the run storage " + entry.getKey()));
            Path signer = Files.createDirectories(dir.resolve(Integer.toString(signers.size())));
            Files.setPosixFilePermissions(signer, PosixFilePermissions.fromString("rwx------"));
            secret(signer.resolve("access-key-id"), silo.accessKey());
            secret(signer.resolve("secret-access-key"), silo.secretKey());
            Map<String, String> config = new LinkedHashMap<>();
            config.put("endpoint", entry.getKey());
            if (entry.getValue() != null) {
                config.put("region", entry.getValue());
            }
            config.put("dir", signer.toAbsolutePath().toString());
            signers.add(config);
        }
        return ContractJson.write(signers);
    }

    // created empty with 0600 before the key is written, so it is never readable by others
    private static void secret(Path file, String value) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, value);
    }
}
