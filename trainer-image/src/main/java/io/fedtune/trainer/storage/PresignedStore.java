package io.fedtune.trainer.storage;

import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.S3Uri;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The run's storage through a trainer task's presigned URLs ({@link PresignedAccess}): GET exactly the granted files,
 * each checked against its recorded SHA-256 as it streams in; PUT exactly the granted outputs; list only what was
 * granted (no request). Errors name the object's key, never its URL: the query string is a bearer credential.
 * Transient failures retry as {@link ObjectStore}'s do.
 */
public final class PresignedStore implements RunStore {
    private static final MediaType BYTES = MediaType.get("application/octet-stream");

    private final String endpoint;
    private final String expires;
    private final Map<S3Uri, PresignedAccess.Get> reads;
    private final Map<S3Uri, String> writes;
    private final OkHttpClient http;
    private final ObjectStore.Retry retry;
    private final ObjectStore.RetryListener listener;

    /**
     * @param reads  each readable object, by key, with its URL and recorded SHA-256
     * @param writes each writable object, by key, with its URL
     */
    public PresignedStore(String endpoint, String expires, Map<S3Uri, PresignedAccess.Get> reads, Map<S3Uri, String> writes,
            OkHttpClient http, ObjectStore.Retry retry, ObjectStore.RetryListener listener) {
        this.endpoint = endpoint == null ? "(the presigned URLs' host)" : ObjectStore.shown(endpoint);
        this.expires = expires;
        this.reads = Map.copyOf(reads);
        this.writes = Map.copyOf(writes);
        this.http = http;
        this.retry = retry;
        this.listener = listener != null ? listener : ObjectStore.RetryListener.log(this.endpoint);
    }

    /** Each granted file name of {@code files} as a key under {@code prefix}. */
    public static <V> Map<S3Uri, V> under(String prefix, Map<String, V> files) {
        Map<S3Uri, V> keys = new TreeMap<>(java.util.Comparator.comparing(S3Uri::toString));
        if (prefix != null && files != null) {
            files.forEach((name, v) -> keys.put(S3Uri.parse(prefix).child(name), v));
        }
        return keys;
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    /** The granted objects under the prefix; storage is not asked (the URLs cannot list). */
    @Override
    public List<String> list(S3Uri prefix) {
        return reads.keySet().stream().filter(k -> k.bucket().equals(prefix.bucket()) && k.key().startsWith(prefix.prefix()))
                .map(S3Uri::key).sorted().toList();
    }

    /** A GET signature cannot ask for HEAD: the cache goes by the recorded SHA-256 instead. */
    @Override
    public ObjectInfo info(S3Uri uri) {
        return null;
    }

    @Override
    public void download(S3Uri uri, Path file) throws IOException {
        PresignedAccess.Get get = reads.get(uri);
        if (get == null || get.url() == null) {
            throw new StorageException(StorageException.Kind.NOT_FOUND, uri + " is not among the files the task's presigned "
                    + "URLs grant", null);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        String actual = call(uri, new Request.Builder().url(get.url()).get().build(), response -> save(response, file));
        if (get.sha256() != null && !get.sha256().equalsIgnoreCase(actual)) {
            Files.deleteIfExists(file);
            throw InputTamperedException.of(uri.toString(), actual, get.sha256());
        }
    }

    /** No user metadata: the PUT's signature does not cover it, so storage would refuse it. */
    @Override
    public void upload(Path file, S3Uri uri, Map<String, String> userMetadata) throws IOException {
        String url = writes.get(uri);
        if (url == null) {
            throw new StorageException(StorageException.Kind.ACCESS_DENIED, "the task's presigned URLs grant no write to "
                    + uri, null);
        }
        call(uri, new Request.Builder().url(url).put(RequestBody.create(file.toFile(), BYTES)).build(), response -> null);
    }

    private interface Body<T> {
        T read(Response response) throws IOException;
    }

    /** The body into the file, hashed as it streams; returns its SHA-256. */
    private static String save(Response response, Path file) throws IOException {
        MessageDigest md = Sha256.digest();
        try (InputStream in = response.body().byteStream(); OutputStream out = Files.newOutputStream(file)) {
            byte[] buf = new byte[1 << 16];
            while (true) {
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    throw new UncheckedBody(e);
                }
                if (n < 0) {
                    break;
                }
                md.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw LocalDisk.naming(file, e);
        }
        return Sha256.hex(md);
    }

    /** A network failure mid-body, carried past the local-disk handling of {@link #save}. */
    private static final class UncheckedBody extends RuntimeException {
        UncheckedBody(IOException cause) {
            super(cause);
        }
    }

    private <T> T call(S3Uri uri, Request request, Body<T> body) throws IOException {
        RetryClock clock = new RetryClock(retry, listener);
        while (true) {
            String cause;
            try (Response response = http.newCall(request).execute()) {
                int code = response.code();
                if (response.isSuccessful()) {
                    return body.read(response);
                }
                if (code == 403) {
                    throw new StorageException(StorageException.Kind.ACCESS_DENIED, "object storage at " + endpoint
                            + " denied access to " + uri + " (403 " + errorCode(response) + ")" + expiry(), null);
                }
                if (code == 404) {
                    throw new StorageException(StorageException.Kind.NOT_FOUND, uri + " does not exist (404 "
                            + errorCode(response) + ")", null);
                }
                if (code < 500 && code != 429) {
                    throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                            + " failed on " + uri + ": " + code + " " + errorCode(response), null);
                }
                cause = code + " " + errorCode(response);
            } catch (UncheckedBody e) {
                cause = redacted(e.getCause());
            } catch (StorageException | InputTamperedException e) {
                throw e;
            } catch (IOException e) {
                if (LocalDisk.full(e) != null || LocalDisk.unwritable(e) != null) {
                    throw e;
                }
                cause = redacted(e);
            }
            java.time.Duration failingFor = clock.failed(uri, new IOException(cause));
            if (failingFor != null) {
                throw new StorageException(StorageException.Kind.UNREACHABLE, "object storage at " + endpoint
                        + " is unreachable: " + uri + " failed for " + failingFor.toSeconds() + " s (" + clock.attempts()
                        + " attempts, retry time " + retry.time().toSeconds() + " s): " + cause, null);
            }
        }
    }

    /** What the URLs' expiry says about a 403: past it, that is the likely cause. */
    private String expiry() {
        if (expires == null) {
            return "";
        }
        try {
            if (Instant.now().isAfter(OffsetDateTime.parse(expires).toInstant())) {
                return ": the presigned URLs expired at " + expires;
            }
        } catch (java.time.format.DateTimeParseException e) {
            return "; the task's expiry '" + expires + "' is not an RFC 3339 time";
        }
        return "; the presigned URLs expire at " + expires;
    }

    /** S3's error code from the XML body, if it is short enough to be one. */
    private static String errorCode(Response response) {
        try {
            String text = response.body() == null ? "" : response.body().string();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("<Code>([A-Za-z]{1,64})</Code>").matcher(text);
            return m.find() ? m.group(1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static String redacted(Throwable e) {
        return Redaction.of(e.toString());
    }
}
