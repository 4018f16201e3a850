package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import io.minio.DownloadObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.UploadObjectArgs;
import io.minio.credentials.Provider;
import io.minio.credentials.StaticProvider;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import okhttp3.OkHttpClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** An S3 endpoint (MinIO, S3, s3proxy) seen through the MinIO client, with transient errors retried with backoff. */
public final class ObjectStore {
    private static final Set<String> DENIED = Set.of("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId",
            "InvalidToken", "ExpiredToken");
    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchBucket", "NoSuchObject");

    private final MinioClient client;
    private final String endpoint;
    private final int attempts;
    private final Duration firstBackoff;

    /**
     * @param credentials how requests are signed ({@link StorageCredentials})
     * @param http        the client requests go through ({@link CaBundle#httpClient})
     */
    public ObjectStore(String endpoint, String region, Provider credentials, OkHttpClient http, int attempts,
            Duration firstBackoff) {
        MinioClient.Builder b = MinioClient.builder().endpoint(endpoint).credentialsProvider(credentials).httpClient(http);
        this.client = (region == null || region.isBlank() ? b : b.region(region)).build();
        this.endpoint = endpoint;
        this.attempts = Math.max(1, attempts);
        this.firstBackoff = firstBackoff;
    }

    public ObjectStore(String endpoint, String region, Provider credentials, OkHttpClient http) {
        this(endpoint, region, credentials, http, 4, Duration.ofMillis(500));
    }

    /** Static keys over the JVM's trusted CAs. */
    public ObjectStore(String endpoint, String region, String accessKey, String secretKey) {
        this(endpoint, region, new StaticProvider(accessKey, secretKey, null), CaBundle.httpClient(null));
    }

    public void download(S3Uri uri, Path file) throws StorageException {
        call(uri, () -> {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            try {
                client.downloadObject(DownloadObjectArgs.builder().bucket(uri.bucket()).object(uri.key())
                        .filename(file.toString()).overwrite(true).build());
            } catch (IOException e) {
                throw LocalDisk.naming(file, e);
            }
            return null;
        });
    }

    /** The object's user metadata (lower-case keys without x-amz-meta-). */
    public Map<String, String> metadata(S3Uri uri) throws StorageException {
        return stat(uri).userMetadata();
    }

    /** The object's user metadata and its ETag (which changes whenever its content does). */
    public StatObjectResponse stat(S3Uri uri) throws StorageException {
        return call(uri, () -> client.statObject(StatObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build()));
    }

    public void upload(Path file, S3Uri uri, Map<String, String> userMetadata) throws StorageException {
        call(uri, () -> client.uploadObject(UploadObjectArgs.builder().bucket(uri.bucket()).object(uri.key())
                .filename(file.toString()).userMetadata(userMetadata).build()));
    }

    /** Keys directly and deeply under a prefix. */
    public List<String> list(S3Uri prefix) throws StorageException {
        return call(prefix, () -> {
            List<String> keys = new ArrayList<>();
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(prefix.bucket())
                    .prefix(prefix.prefix()).recursive(true).build())) {
                keys.add(r.get().objectName());
            }
            return keys;
        });
    }

    private interface Call<T> {
        T run() throws Exception;
    }

    /** The credentials provider was refused (web identity: STS denied the token); an unreachable STS is retried. */
    private void credentialsFailure(Exception e) throws StorageException {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.ProviderException p && !(p.getCause() instanceof IOException)) {
                throw new StorageException(StorageException.Kind.ACCESS_DENIED, "could not get credentials for object "
                        + "storage at " + endpoint + ": " + p.getMessage(), e);
            }
        }
    }

    private <T> T call(S3Uri uri, Call<T> call) throws StorageException {
        Duration backoff = firstBackoff;
        for (int attempt = 1; ; attempt++) {
            try {
                return call.run();
            } catch (ErrorResponseException e) {
                String code = e.errorResponse().code();
                if (DENIED.contains(code) || e.response().code() == 403) {
                    throw new StorageException(StorageException.Kind.ACCESS_DENIED, "object storage at " + endpoint
                            + " denied access to " + uri + " (" + code + "); check the credentials", e);
                }
                if (MISSING.contains(code) || e.response().code() == 404) {
                    throw new StorageException(StorageException.Kind.NOT_FOUND, uri + " does not exist (" + code + ")", e);
                }
                if (e.response().code() < 500 || attempt >= attempts) {
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                            + " failed on " + uri + ": " + code + " " + e.getMessage(), e);
                }
            } catch (IOException e) {
                if (LocalDisk.full(e) != null || LocalDisk.unwritable(e) != null) {
                    // the local side failed, not the store: retrying cannot help (Failure names the path)
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "cannot write " + uri
                            + " locally: " + e.getMessage(), e);
                }
                if (attempt >= attempts) {
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                            + " is unreachable (" + attempts + " attempts on " + uri + "): " + e.getMessage(), e);
                }
            } catch (Exception e) {
                credentialsFailure(e);
                if (attempt >= attempts) {
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                            + " failed on " + uri + ": " + e, e);
                }
            }
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new StorageException(StorageException.Kind.UNREACHABLE, "interrupted", ie);
            }
            backoff = backoff.multipliedBy(2);
        }
    }
}
