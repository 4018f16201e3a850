package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The run's object storage as a command sees it: through the run's credentials ({@link ObjectStore}, the server's pods)
 * or through the presigned URLs of a trainer's task ({@link PresignedStore}, which can reach only what they grant).
 */
public interface RunStore {
    /** What storage says about an object without reading it. */
    record ObjectInfo(String etag, Map<String, String> userMetadata) {
    }

    /** The endpoint, as messages name it (never credentials or signatures). */
    String endpoint();

    void download(S3Uri uri, Path file) throws StorageException, java.io.IOException;

    /** @param userMetadata stored where the store can sign it (a presigned PUT cannot: it is dropped there) */
    void upload(Path file, S3Uri uri, Map<String, String> userMetadata) throws StorageException, java.io.IOException;

    /** Keys directly and deeply under a prefix. */
    List<String> list(S3Uri prefix) throws StorageException;

    /** The object's ETag and user metadata; null when it does not exist or this store cannot ask. */
    ObjectInfo info(S3Uri uri) throws StorageException;
}
