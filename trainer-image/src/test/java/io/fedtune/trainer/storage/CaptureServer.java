package io.fedtune.trainer.storage;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A tiny HTTP(S) server that records what reaches it: S3 requests are answered NoSuchKey (404), and an STS
 * AssumeRoleWithWebIdentity is answered with the temporary keys {@link #STS_ACCESS_KEY} and {@link #STS_SESSION_TOKEN}.
 */
final class CaptureServer implements AutoCloseable {
    static final String STS_ACCESS_KEY = "ASIASTSACCESSKEY";
    static final String STS_SESSION_TOKEN = "sts-session-token-from-web-identity";

    /** One request as it arrived: lower-case header names. */
    record Request(String method, String target, Map<String, List<String>> headers, String body) {
        String header(String name) {
            List<String> v = headers.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    private final HttpServer server;
    private final String endpoint;
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** S3 error answers given, in order, before the default NoSuchKey: an HTTP status and an S3 error code. */
    record Answer(int status, String code) {
    }

    final java.util.Queue<Answer> scripted = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Whether STS refuses the web identity token (403 AccessDenied). */
    volatile boolean refuseSts;

    private CaptureServer(HttpServer server, String scheme) {
        this.server = server;
        this.endpoint = scheme + "://127.0.0.1:" + server.getAddress().getPort();
        server.createContext("/", this::handle);
        server.start();
    }

    static CaptureServer http() throws IOException {
        return new CaptureServer(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), "http");
    }

    /** Over TLS with the key and certificate of a PKCS12 keystore. */
    static CaptureServer https(Path keystore, char[] password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        return new CaptureServer(server, "https");
    }

    String endpoint() {
        return endpoint;
    }

    private void handle(HttpExchange x) throws IOException {
        String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Map<String, List<String>> headers = new java.util.TreeMap<>();
        x.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v));
        String target = x.getRequestURI().toString();
        requests.add(new Request(x.getRequestMethod(), target, headers, body));
        boolean sts = target.contains("AssumeRoleWithWebIdentity") || body.contains("AssumeRoleWithWebIdentity");
        if (sts && refuseSts) {
            respond(x, 403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    + "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>");
            return;
        }
        if (sts) {
            respond(x, 200, """
                    <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                      <AssumeRoleWithWebIdentityResult>
                        <Credentials>
                          <AccessKeyId>%s</AccessKeyId>
                          <SecretAccessKey>sts-secret</SecretAccessKey>
                          <SessionToken>%s</SessionToken>
                          <Expiration>2099-01-01T00:00:00Z</Expiration>
                        </Credentials>
                      </AssumeRoleWithWebIdentityResult>
                    </AssumeRoleWithWebIdentityResponse>
                    """.formatted(STS_ACCESS_KEY, STS_SESSION_TOKEN));
            return;
        }
        Answer next = scripted.poll();
        if (next != null) {
            respond(x, next.status(), "<Error><Code>" + next.code() + "</Code><Message>scripted</Message></Error>");
            return;
        }
        respond(x, 404, "<Error><Code>NoSuchKey</Code><Message>none</Message></Error>");
    }

    private static void respond(HttpExchange x, int status, String xml) throws IOException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "application/xml");
        if (x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(status, -1);
        } else {
            x.sendResponseHeaders(status, bytes.length);
            x.getResponseBody().write(bytes);
        }
        x.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
