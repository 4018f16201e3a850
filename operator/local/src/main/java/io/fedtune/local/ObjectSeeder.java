package io.fedtune.local;

import io.fedtune.api.contract.S3Uri;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.UploadObjectArgs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Uploads the objects a run reads into its silos before it starts. An s3://bucket/key is taken from
 * {@code dataDir/bucket/key} (a file, or a folder uploaded recursively); a few URIs can be mapped to other local
 * places, such as the base model the trainer's pretrain made.
 */
public final class ObjectSeeder {
    private final Path dataDir;
    private final Map<String, Path> overrides;

    public ObjectSeeder(Path dataDir, Map<String, Path> overrides) {
        this.dataDir = dataDir;
        this.overrides = overrides;
    }

    public void seed(S3Silo silo, Silo plan) throws Exception {
        MinioClient s3 = silo.client();
        for (String uri : plan.objects()) {
            S3Uri target = S3Uri.parse(uri);
            Path source = overrides.getOrDefault(uri, dataDir.resolve(target.bucket()).resolve(target.key()));
            if (!Files.exists(source)) {
                throw new IOException(uri + " (for " + plan.owner() + ") has no local source: expected " + source);
            }
            if (!s3.bucketExists(BucketExistsArgs.builder().bucket(target.bucket()).build())) {
                s3.makeBucket(MakeBucketArgs.builder().bucket(target.bucket()).build());
            }
            for (Path file : files(source)) {
                String key = Files.isDirectory(source)
                        ? join(target.key(), source.relativize(file).toString())
                        : target.key();
                s3.uploadObject(UploadObjectArgs.builder().bucket(target.bucket()).object(key).filename(file.toString()).build());
            }
        }
    }

    private static List<Path> files(Path source) throws IOException {
        if (!Files.isDirectory(source)) {
            return List.of(source);
        }
        try (Stream<Path> walk = Files.walk(source)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix.replaceAll("/+$", "") + "/" + name;
    }
}
