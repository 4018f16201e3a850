package io.fedtune.local;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fedtune.strictapi.ChartRole;
import io.fedtune.strictapi.StrictDispatcher;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.stream.Stream;

/**
 * The in-process Kubernetes API: fabric8's mock server in CRUD mode, over plain HTTP on loopback, with fedtune's CRDs
 * registered so that status is a subresource, and the discovery and table printing that a real kubectl needs. It keeps objects, watches, resourceVersions and generations; it does not
 * validate schemas (apply does that first), run pods (the local pod runner does) or collect garbage.
 * It is strict where a real cluster is ({@link StrictDispatcher}): the operator (the client with
 * {@link #OPERATOR_TOKEN}) may do only what the chart's ClusterRole grants, and objects anyone writes are validated as
 * the API server validates them; every refusal is kept ({@link #refusals}).
 */
public final class EmbeddedApiServer implements AutoCloseable {
    // Held strongly: java.util.logging forgets the level of a logger nobody references.
    private static final java.util.logging.Logger MOCK_SERVER_LOG = quiet("io.fabric8.mockwebserver");

    /** The bearer token the operator process is given: the chart's service account to this server. */
    public static final String OPERATOR_TOKEN = StrictDispatcher.OPERATOR_TOKEN;

    private final KubernetesMockServer server;
    private final StrictDispatcher strict;
    private final KubernetesClient client;

    private EmbeddedApiServer(KubernetesMockServer server, StrictDispatcher strict) {
        this.server = server;
        this.strict = strict;
        this.client = server.createClient();
    }

    /** With the role of the chart next to the CRDs (crds/ and charts/fedtune-operator of the repository). */
    public static EmbeddedApiServer start(Path crdDir, int port) throws IOException {
        return start(crdDir, crdDir.resolveSibling("charts").resolve("fedtune-operator"), port);
    }

    /**
     * helm template in a child JVM: helm-java loads a Go runtime that takes SIGTERM, SIGINT and SIGQUIT from the JVM
     * that loads it, and fedtune-local must stop on SIGTERM (its shutdown hook stops its children).
     */
    static String renderInChildProcess(Path chartDir) throws IOException {
        Process helm = ChildProcesses.start(new ProcessBuilder(S3Silo.javaBin(), "-cp", System.getProperty("java.class.path"),
                ChartRole.class.getName(), chartDir.toString()).redirectError(ProcessBuilder.Redirect.INHERIT));
        String rendered = new String(helm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (helm.waitFor() != 0) {
                throw new IOException("helm template of " + chartDir + " failed with exit code " + helm.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted rendering " + chartDir, e);
        }
        return rendered;
    }

    public static EmbeddedApiServer start(Path crdDir, Path chartDir, int port) throws IOException {
        KubectlDispatcher dispatcher = new KubectlDispatcher();
        StrictDispatcher strict = new StrictDispatcher(dispatcher, ChartRole.of(renderInChildProcess(chartDir)));
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                strict, false);
        server.init(InetAddress.getLoopbackAddress(), port);
        EmbeddedApiServer api = new EmbeddedApiServer(server, strict);
        try (Stream<Path> files = Files.list(crdDir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (InputStream in = Files.newInputStream(file)) {
                    CustomResourceDefinition crd = api.client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
                    api.client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
                    dispatcher.register(crd);
                }
            }
        }
        return api;
    }

    /** A client of this server for the local mode's own parts (apply, pod runner, progress). */
    public KubernetesClient client() {
        return client;
    }

    /** Every request refused so far (403, 400, 422), as "METHOD PATH -> CODE MESSAGE"; a real cluster would refuse them too. */
    public List<String> refusals() {
        return strict.refusals();
    }

    /** What the operator's requests needed so far, "verb resource[.group]" each: empty when no operator has called. */
    public List<String> operatorPermissions() {
        return strict.used().stream().map(Object::toString).toList();
    }

    /** The ClusterRole, rendered from the chart by real Helm, that this server authorizes the operator's requests by. */
    public io.fedtune.strictapi.RbacPolicy operatorPolicy() {
        return strict.policy();
    }

    /** The API server URL, e.g. http://127.0.0.1:6443. */
    public String url() {
        return "http://" + server.getHostName() + ":" + server.getPort();
    }

    /** Writes a kubeconfig pointing at this server, for people who want to look with their own tools. */
    public Path writeKubeconfig(Path file) throws IOException {
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: fedtune-local
                  cluster:
                    server: %s
                contexts:
                - name: fedtune-local
                  context:
                    cluster: fedtune-local
                    user: fedtune-local
                    namespace: default
                current-context: fedtune-local
                users:
                - name: fedtune-local
                  user:
                    token: local
                """.formatted(url()));
        return file;
    }

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
        logger.setLevel(java.util.logging.Level.WARNING);
        return logger;
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
