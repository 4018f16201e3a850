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

/**
 * An S3 endpoint (MinIO, S3, s3proxy) seen through the MinIO client. Transient errors (connection refused, timeouts,
 * 5xx, 429 and SlowDown throttling) are retried with capped, jittered exponential backoff for a bounded time per call
 * ({@link Retry#time}), counted from the call's first failure: an outage shorter than that is ridden out, and an
 * upload after training is retried on its own, never the training. Other 4xx answers are final at once.
 */
public final class ObjectStore implements RunStore {
    /**
     * How long one call retries transient errors, and its backoff: the first wait, doubled per failure up to maxBackoff,
     * each wait drawn uniformly from its upper half (jitter, so a fleet of pods does not retry in step).
     */
    public record Retry(Duration time, Duration firstBackoff, Duration maxBackoff) {
        public static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
        public static final Duration MAX_BACKOFF = Duration.ofSeconds(20);

        public static Retry of(Duration time) {
            return new Retry(time, FIRST_BACKOFF, MAX_BACKOFF);
        }

        /** The default of the contract: {@link io.fedtune.api.contract.TrainerEnv#DEFAULT_STORAGE_RETRY_SECONDS}. */
        public static Retry contractDefault() {
            return of(Duration.ofSeconds(io.fedtune.api.contract.TrainerEnv.DEFAULT_STORAGE_RETRY_SECONDS));
        }
    }

    /** Told before each wait: which call failed transiently, how long it has been failing, and why. */
    public interface RetryListener {
        void retrying(S3Uri uri, int attempt, Duration failingFor, Exception cause);

        /** A line on stderr per retry (no credentials: the endpoint, the object and the error). */
        static RetryListener log(String endpoint) {
            return (uri, attempt, failingFor, cause) -> System.err.println("object storage at " + endpoint + " failed on " + uri
                    + " (attempt " + attempt + ", failing for " + failingFor.toSeconds() + " s): " + cause);
        }
    }
    private static final Set<String> DENIED = Set.of("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId",
            "InvalidToken", "ExpiredToken");
    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchBucket", "NoSuchObject");

    private final MinioClient client;
    private final String endpoint;
    private final Retry retry;
    private final RetryListener listener;

    /**
     * @param credentials how requests are signed ({@link StorageCredentials})
     * @param http        the client requests go through ({@link CaBundle#httpClient})
     */
    public ObjectStore(String endpoint, String region, Provider credentials, OkHttpClient http, Retry retry,
            RetryListener listener) {
        MinioClient.Builder b = MinioClient.builder().endpoint(endpoint).credentialsProvider(credentials).httpClient(http);
        this.client = (region == null || region.isBlank() ? b : b.region(region)).build();
        this.endpoint = shown(endpoint);
        this.retry = retry;
        this.listener = listener != null ? listener : RetryListener.log(this.endpoint);
    }

    public ObjectStore(String endpoint, String region, Provider credentials, OkHttpClient http, Retry retry) {
        this(endpoint, region, credentials, http, retry, null);
    }

    public ObjectStore(String endpoint, String region, Provider credentials, OkHttpClient http) {
        this(endpoint, region, credentials, http, Retry.contractDefault());
    }

    /** Static keys over the JVM's trusted CAs. */
    public ObjectStore(String endpoint, String region, String accessKey, String secretKey) {
        this(endpoint, region, new StaticProvider(accessKey, secretKey, null), CaBundle.httpClient(null));
    }

    /** Static keys over the JVM's trusted CAs, with this retry policy. */
    public ObjectStore(String endpoint, String region, String accessKey, String secretKey, Retry retry, RetryListener listener) {
        this(endpoint, region, new StaticProvider(accessKey, secretKey, null), CaBundle.httpClient(null), retry, listener);
    }

    /** The endpoint as messages name it: without user info, should an endpoint ever carry any. */
    static String shown(String endpoint) {
        int scheme = endpoint.indexOf("://");
        int at = endpoint.lastIndexOf('@');
        return scheme >= 0 && at > scheme ? endpoint.substring(0, scheme + 3) + endpoint.substring(at + 1) : endpoint;
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
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

    @Override
    public ObjectInfo info(S3Uri uri) throws StorageException {
        try {
            StatObjectResponse stat = stat(uri);
            return new ObjectInfo(stat.etag(), stat.userMetadata());
        } catch (StorageException e) {
            if (e.kind() != StorageException.Kind.NOT_FOUND) {
                throw e;
            }
            return null;
        }
    }

    @Override
    public void upload(Path file, S3Uri uri, Map<String, String> userMetadata) throws StorageException {
        call(uri, () -> client.uploadObject(UploadObjectArgs.builder().bucket(uri.bucket()).object(uri.key())
                .filename(file.toString()).userMetadata(userMetadata).build()));
    }

    /** Keys directly and deeply under a prefix. */
    @Override
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

    /** S3's throttling answers, retried like a 5xx. */
    private static boolean throttled(ErrorResponseException e) {
        return e.response().code() == 429 || "SlowDown".equals(e.errorResponse().code());
    }

    private <T> T call(S3Uri uri, Call<T> call) throws StorageException {
        RetryClock clock = new RetryClock(retry, listener);
        while (true) {
            Exception cause;
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
                if (e.response().code() < 500 && !throttled(e)) {
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                            + " failed on " + uri + ": " + code + " " + e.getMessage(), e);
                }
                cause = e;
            } catch (IOException e) {
                if (LocalDisk.full(e) != null || LocalDisk.unwritable(e) != null) {
                    // the local side failed, not the store: retrying cannot help (Failure names the path)
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "cannot write " + uri
                            + " locally: " + e.getMessage(), e);
                }
                cause = e;
            } catch (Exception e) {
                credentialsFailure(e);
                cause = e;
            }
            java.time.Duration failingFor = clock.failed(uri, cause);
            if (failingFor != null) {
                throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                        + " is unreachable: " + uri + " failed for " + failingFor.toSeconds() + " s (" + clock.attempts()
                        + " attempts, retry time " + retry.time().toSeconds() + " s): " + describe(cause), cause);
            }
        }
    }

    private static String describe(Exception e) {
        if (e instanceof ErrorResponseException r) {
            return r.response().code() + " " + r.errorResponse().code() + " " + r.getMessage();
        }
        return e.toString();
    }
}
