package io.fedtune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.TrainerEnv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Credentials beyond static keys, as they reach the wire: session tokens, web identity, a private CA. */
class StorageCredentialsTest {
    private static final S3Uri OBJECT = S3Uri.parse("s3://run/models/tiny/model.safetensors");
    private static final char[] PASSWORD = "changeit".toCharArray();
    @TempDir
    static Path dir;
    static Path keystore;
    static Path caPem;

    /** A self-signed certificate for 127.0.0.1, made with the JDK's keytool: the server's key and its own CA. */
    @BeforeAll
    static void certificate() throws Exception {
        keystore = dir.resolve("server.p12");
        caPem = dir.resolve("ca.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "s3", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit");
        run(keytool, "-exportcert", "-rfc", "-alias", "s3", "-keystore", keystore.toString(), "-storepass", "changeit",
                "-file", caPem.toString());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    private static ObjectStore store(String endpoint, Map<String, String> env, Path ca) {
        OkHttpClient http = CaBundle.httpClient(ca);
        return new ObjectStore(endpoint, "us-east-1",
                StorageCredentials.of(env::get, StorageCredentials.Keys.RUN, endpoint, "us-east-1", http), http,
                new ObjectStore.Retry(Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(1)));
    }

    private static StorageException.Kind kindOf(ObjectStore store) {
        try {
            store.metadata(OBJECT);
            throw new AssertionError("the capture server has no objects");
        } catch (StorageException e) {
            return e.kind();
        }
    }

    @Test
    void aSessionTokenTravelsWithTheRequestAndNeverInAMessage() throws Exception {
        try (CaptureServer s3 = CaptureServer.http()) {
            Map<String, String> env = Map.of(TrainerEnv.STORAGE_ACCESS_KEY, "AKIATEMPORARY",
                    TrainerEnv.STORAGE_SECRET_KEY, "temporary-secret", TrainerEnv.STORAGE_SESSION_TOKEN, "the-session-token");
            StorageException e = (StorageException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> store(s3.endpoint(), env, null).metadata(OBJECT));
            assertThat(e.kind()).isEqualTo(StorageException.Kind.NOT_FOUND);
            assertThat(e.getMessage()).doesNotContain("the-session-token").doesNotContain("temporary-secret");
            CaptureServer.Request head = s3.requests.get(0);
            assertThat(head.method()).isEqualTo("HEAD");
            assertThat(head.header("x-amz-security-token")).isEqualTo("the-session-token");
            assertThat(head.header("authorization")).contains("Credential=AKIATEMPORARY/");
        }
    }

    @Test
    void webIdentityTradesTheTokenFileForTemporaryKeysAtSts() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "projected-jwt\n");
        try (CaptureServer s3 = CaptureServer.http()) {
            Map<String, String> env = Map.of(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE, token.toString(),
                    TrainerEnv.AWS_ROLE_ARN, "arn:aws:iam::123456789012:role/fedtune");
            assertThat(kindOf(store(s3.endpoint(), env, null))).isEqualTo(StorageException.Kind.NOT_FOUND);
            CaptureServer.Request sts = s3.requests.get(0);
            assertThat(sts.method()).isEqualTo("POST");
            assertThat(sts.target() + sts.body()).contains("AssumeRoleWithWebIdentity").contains("WebIdentityToken=projected-jwt")
                    .contains("RoleArn=arn");
            CaptureServer.Request head = s3.requests.get(1);
            assertThat(head.header("x-amz-security-token")).isEqualTo(CaptureServer.STS_SESSION_TOKEN);
            assertThat(head.header("authorization")).contains("Credential=" + CaptureServer.STS_ACCESS_KEY + "/");
        }
    }

    @Test
    void stsRefusingTheTokenIsAccessDeniedWithoutTheToken() throws Exception {
        Path token = Files.writeString(dir.resolve("refused-token"), "refused-jwt");
        try (CaptureServer s3 = CaptureServer.http()) {
            s3.refuseSts = true;
            Map<String, String> env = Map.of(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE, token.toString(),
                    TrainerEnv.AWS_ROLE_ARN, "arn:aws:iam::123456789012:role/fedtune");
            StorageException e = (StorageException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> store(s3.endpoint(), env, null).metadata(OBJECT));
            assertThat(e.kind()).as(e.getMessage()).isEqualTo(StorageException.Kind.ACCESS_DENIED);
            assertThat(e.getMessage()).contains("could not get credentials").doesNotContain("refused-jwt");
            assertThat(s3.requests).singleElement().satisfies(r -> assertThat(r.method()).isEqualTo("POST"));
        }
    }

    @Test
    void missingCredentialsAreRefusedByName() throws Exception {
        Path token = Files.writeString(dir.resolve("token-no-role"), "jwt");
        assertThatThrownBy(() -> store("http://127.0.0.1:1", Map.of(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE, token.toString()), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("web identity needs AWS_ROLE_ARN");
        assertThatThrownBy(() -> store("http://127.0.0.1:1", Map.of(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FEDTUNE_STORAGE_ACCESS_KEY_ID and FEDTUNE_STORAGE_SECRET_ACCESS_KEY, or "
                        + "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN");
        assertThatThrownBy(() -> store("http://127.0.0.1:1", Map.of(TrainerEnv.STORAGE_ACCESS_KEY, "AKIA"), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FEDTUNE_STORAGE_SECRET_ACCESS_KEY is not");
        Map<String, String> env = new HashMap<>();
        env.put(TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE, dir.resolve("absent").toString());
        env.put(TrainerEnv.AWS_ROLE_ARN, "arn:aws:iam::1:role/x");
        assertThatThrownBy(() -> store("http://127.0.0.1:1", env, null)).hasMessageContaining("cannot be read");
    }

    @Test
    void aCaBundleIsTrustedBesideTheJvmsOwn() throws Exception {
        Map<String, String> env = Map.of(TrainerEnv.STORAGE_ACCESS_KEY, "AKIA", TrainerEnv.STORAGE_SECRET_KEY, "secret");
        try (CaptureServer s3 = CaptureServer.https(keystore, PASSWORD)) {
            assertThat(kindOf(store(s3.endpoint(), env, null))).as("the JVM alone does not trust the private CA")
                    .isEqualTo(StorageException.Kind.UNREACHABLE);
            assertThat(s3.requests).isEmpty();
            assertThat(kindOf(store(s3.endpoint(), env, caPem))).isEqualTo(StorageException.Kind.NOT_FOUND);
            assertThat(s3.requests).hasSize(1);
        }
        int jvm = CaBundle.trustManager(caPem).getAcceptedIssuers().length;
        assertThat(jvm).as("the JVM's CAs stay trusted").isGreaterThan(1);
    }

    @Test
    void aCaFileThatIsNotPemIsRefusedByName() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.pem"), "not a certificate\n");
        assertThatThrownBy(() -> CaBundle.httpClient(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FEDTUNE_STORAGE_CA_FILE " + bad + " is not a PEM certificate");
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> CaBundle.httpClient(empty)).hasMessageContaining("is not a PEM certificate");
        assertThatThrownBy(() -> CaBundle.httpClient(dir.resolve("none.pem"))).hasMessageContaining("does not exist");
        assertThat(List.of(caPem)).allSatisfy(p -> assertThat(CaBundle.httpClient(p)).isNotNull());
    }
}
