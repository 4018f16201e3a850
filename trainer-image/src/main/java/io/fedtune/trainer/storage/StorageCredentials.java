package io.fedtune.trainer.storage;

import io.fedtune.api.contract.TrainerEnv;
import io.minio.credentials.Jwt;
import io.minio.credentials.Provider;
import io.minio.credentials.StaticProvider;
import io.minio.credentials.WebIdentityProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import okhttp3.OkHttpClient;

/**
 * How a store signs its requests, in this order: static keys from the environment (with their session token when
 * temporary), else web identity (a projected ServiceAccount token exchanged for temporary keys by STS
 * AssumeRoleWithWebIdentity), else nothing, which is refused naming the variables that are missing. Secrets never reach
 * a message.
 */
public final class StorageCredentials {
    /** The AWS SDKs' name for an STS endpoint other than AWS's (MinIO serves STS at its own endpoint). */
    static final String STS_ENDPOINT = "AWS_ENDPOINT_URL_STS";
    static final String ROLE_SESSION_NAME = "AWS_ROLE_SESSION_NAME";

    private StorageCredentials() {
    }

    /** The variables one store's static keys come from. */
    public record Keys(String accessKey, String secretKey, String sessionToken) {
        public static final Keys RUN = new Keys(TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY,
                TrainerEnv.STORAGE_SESSION_TOKEN);
        public static final Keys DATA = new Keys(TrainerEnv.DATA_ACCESS_KEY, TrainerEnv.DATA_SECRET_KEY,
                TrainerEnv.DATA_SESSION_TOKEN);
    }

    /**
     * @param env      looks up an environment variable
     * @param endpoint the store's endpoint (also where STS is asked, unless AWS or {@value #STS_ENDPOINT})
     * @param http     the client STS is reached with (the same trust as the store's)
     */
    public static Provider of(Function<String, String> env, Keys keys, String endpoint, String region, OkHttpClient http) {
        String access = value(env, keys.accessKey());
        String secret = value(env, keys.secretKey());
        if (access != null || secret != null) {
            if (access == null || secret == null) {
                throw new IllegalArgumentException(keys.accessKey() + " and " + keys.secretKey() + " must be set together; "
                        + (access == null ? keys.accessKey() : keys.secretKey()) + " is not");
            }
            return new StaticProvider(access, secret, value(env, keys.sessionToken()));
        }
        String tokenFile = value(env, TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE);
        if (tokenFile == null) {
            throw new IllegalArgumentException("an s3:// location needs credentials: " + keys.accessKey() + " and "
                    + keys.secretKey() + ", or " + TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE + " and " + TrainerEnv.AWS_ROLE_ARN);
        }
        String role = value(env, TrainerEnv.AWS_ROLE_ARN);
        if (role == null) {
            throw new IllegalArgumentException("web identity needs " + TrainerEnv.AWS_ROLE_ARN + ": "
                    + TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE + " is set, the role to assume is not");
        }
        Path token = Path.of(tokenFile);
        if (!Files.isReadable(token)) {
            throw new IllegalArgumentException(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE + " " + tokenFile + " cannot be read");
        }
        String session = value(env, ROLE_SESSION_NAME);
        return new WebIdentityProvider(() -> new Jwt(read(token), 0), stsEndpoint(env, endpoint, region), null, null, role,
                session == null ? "fedtune-trainer" : session, http);
    }

    /** {@value #STS_ENDPOINT} if set; AWS's regional STS for an AWS endpoint; else the store itself (MinIO). */
    static String stsEndpoint(Function<String, String> env, String endpoint, String region) {
        String explicit = value(env, STS_ENDPOINT);
        if (explicit != null) {
            return explicit;
        }
        if (endpoint.contains("amazonaws.com")) {
            return region == null || region.isBlank() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
        }
        return endpoint;
    }

    /** Read on every exchange: the kubelet rotates a projected token in place. */
    private static String read(Path token) {
        try {
            return Files.readString(token).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the web identity token " + token, e);
        }
    }

    private static String value(Function<String, String> env, String name) {
        String v = env.apply(name);
        return v == null || v.isBlank() ? null : v;
    }
}
