package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.contract.S3Uri;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The run's storage as {@link RunReport} reads it: a missing object is just missing, and anything else that stops a
 * read (storage down, refused, a corrupt object) becomes a line saying what could not be read and why, not an
 * exception, so the report is written whatever state storage is in.
 */
final class ReportStorage {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MinioClient s3;
    private final String endpoint;
    private final List<String> unread = new ArrayList<>();

    ReportStorage(MinioClient s3, String endpoint) {
        this.s3 = s3;
        this.endpoint = endpoint;
    }

    /** A JSON object, or empty where it is missing or could not be read (then noted under {@code what}). */
    Optional<JsonNode> read(String what, S3Uri uri) {
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build())) {
            return Optional.of(JSON.readTree(in));
        } catch (ErrorResponseException e) {
            if (!"NoSuchKey".equals(e.errorResponse().code()) && !"NoSuchBucket".equals(e.errorResponse().code())) {
                unread.add(what + ": storage at " + endpoint + " answered " + e.errorResponse().code() + " for " + uri);
            }
        } catch (IOException e) {
            unread.add(what + ": " + (e instanceof com.fasterxml.jackson.core.JacksonException
                    ? uri + " is not JSON: " + e.getMessage() : unreachable(e)));
        } catch (Exception e) {
            unread.add(what + ": " + unreachable(e));
        }
        return Optional.empty();
    }

    /** The keys under a prefix, or those listed before a failure (then noted under {@code what}). */
    List<String> keys(String what, S3Uri prefix) {
        List<String> keys = new ArrayList<>();
        try {
            for (Result<Item> result : s3.listObjects(ListObjectsArgs.builder().bucket(prefix.bucket()).prefix(prefix.key())
                    .recursive(true).build())) {
                keys.add(result.get().objectName());
            }
        } catch (ErrorResponseException e) {
            if (!"NoSuchBucket".equals(e.errorResponse().code())) {
                unread.add(what + ": storage at " + endpoint + " answered " + e.errorResponse().code() + " listing " + prefix);
            }
        } catch (Exception e) {
            unread.add(what + ": " + unreachable(e));
        }
        return keys;
    }

    /** What could not be read, one line each. */
    List<String> unread() {
        return List.copyOf(unread);
    }

    private String unreachable(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return "storage unreachable at " + endpoint + ": " + (root.getMessage() != null ? root.getMessage() : root.toString());
    }
}
