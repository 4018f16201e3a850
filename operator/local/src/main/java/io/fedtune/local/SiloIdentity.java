package io.fedtune.local;

import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Proof that the server on a silo's port serves this silo's folder: a random nonce written into the folder before
 * s3proxy starts, read back through S3 once it answers. An earlier run's silo, or any other server, fails it.
 */
final class SiloIdentity {
    static final String BUCKET = "fedtune-local";
    static final String KEY = "silo-identity";

    private final String nonce;

    private SiloIdentity(String nonce) {
        this.nonce = nonce;
    }

    /** Writes a fresh nonce into the silo's objects folder, where s3proxy will serve it as BUCKET/KEY. */
    static SiloIdentity plant(Path objectsDir) throws IOException {
        String nonce = UUID.randomUUID().toString();
        Path file = Files.createDirectories(objectsDir.resolve(BUCKET)).resolve(KEY);
        Files.writeString(file, nonce);
        return new SiloIdentity(nonce);
    }

    /** @throws SiloRefused where the server at the endpoint does not serve this silo's nonce */
    void check(MinioClient client, String endpoint, Path objectsDir) throws SiloRefused {
        String served;
        try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(BUCKET).object(KEY).build())) {
            served = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (Exception e) {
            throw new SiloRefused("the server at " + endpoint + " is not the silo just started on " + objectsDir
                    + ": reading back its identity object s3://" + BUCKET + "/" + KEY + " failed (" + e.getMessage()
                    + "); nothing was uploaded to it");
        }
        if (!served.equals(nonce)) {
            throw new SiloRefused("the server at " + endpoint + " serves another folder than " + objectsDir
                    + " (its identity object holds another nonce); nothing was uploaded to it");
        }
    }
}
