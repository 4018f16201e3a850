package io.fedtune.trainer.aggregate;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The s3proxy jar the build copies into target/s3proxy, run as a child process over a temporary directory. */
final class S3Sandbox implements AutoCloseable {
    static final String ACCESS_KEY = "aggregate-test";
    static final String SECRET_KEY = "aggregate-test-secret";

    private final Process process;
    final String endpoint;

    private S3Sandbox(Process process, String endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    static S3Sandbox start(Path dir) throws Exception {
        String jar = System.getProperty("fedtune.s3proxy.jar");
        assumeTrue(jar != null && Files.exists(Path.of(jar)), "s3proxy jar not built");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, "s3proxy.endpoint=" + endpoint + "\ns3proxy.authorization=aws-v2-or-v4\n"
                + "s3proxy.identity=" + ACCESS_KEY + "\ns3proxy.credential=" + SECRET_KEY + "\n"
                + "jclouds.provider=filesystem-nio2\njclouds.filesystem.basedir="
                + Files.createDirectories(dir.resolve("blobs")) + "\n");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", jar, "--properties", props.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
        for (int i = 0; i < 600; i++) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return new S3Sandbox(p, endpoint);
            } catch (java.io.IOException notYet) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("s3proxy exited with " + p.exitValue());
                }
                p.waitFor(100, TimeUnit.MILLISECONDS);
            }
        }
        p.destroy();
        throw new IllegalStateException("s3proxy did not listen within 60 s");
    }

    MinioClient client() {
        return MinioClient.builder().endpoint(endpoint).credentials(ACCESS_KEY, SECRET_KEY).build();
    }

    void makeBucket(String name) throws Exception {
        client().makeBucket(MakeBucketArgs.builder().bucket(name).build());
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
