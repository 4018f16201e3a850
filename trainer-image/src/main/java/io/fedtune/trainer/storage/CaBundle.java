package io.fedtune.trainer.storage;

import io.fedtune.api.contract.TrainerEnv;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * The HTTP client storage is reached with: the JVM's trusted CAs, plus those of the PEM bundle
 * {@code FEDTUNE_STORAGE_CA_FILE} names (a private MinIO's CA) when it is set.
 */
public final class CaBundle {
    private CaBundle() {
    }

    /** @param caFile a PEM bundle, or null for the JVM's CAs alone */
    public static OkHttpClient httpClient(Path caFile) {
        OkHttpClient.Builder b = new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10))
                .readTimeout(Duration.ofMinutes(5)).writeTimeout(Duration.ofMinutes(5));
        if (caFile != null) {
            X509TrustManager trust = trustManager(caFile);
            try {
                SSLContext tls = SSLContext.getInstance("TLS");
                tls.init(null, new TrustManager[] {trust}, null);
                b.sslSocketFactory(tls.getSocketFactory(), trust);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot set up TLS with " + caFile + ": " + e.getMessage(), e);
            }
        }
        return b.build();
    }

    /** A trust manager for the JVM's default CAs and every certificate in the PEM file. */
    static X509TrustManager trustManager(Path caFile) {
        Collection<? extends Certificate> added = read(caFile);
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (X509Certificate c : defaultTrust().getAcceptedIssuers()) {
                store.setCertificateEntry("jvm-" + i++, c);
            }
            for (Certificate c : added) {
                store.setCertificateEntry("bundle-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return x509(tmf.getTrustManagers());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a trust store with " + caFile + ": " + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> read(Path caFile) {
        if (!Files.isRegularFile(caFile)) {
            throw new IllegalArgumentException(TrainerEnv.STORAGE_CA_FILE + " " + caFile + " does not exist");
        }
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(caFile)) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(TrainerEnv.STORAGE_CA_FILE + " " + caFile + " is not a PEM certificate "
                    + "bundle (" + e.getMessage() + ")", e);
        }
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(TrainerEnv.STORAGE_CA_FILE + " " + caFile
                    + " is not a PEM certificate bundle (no certificate in it)");
        }
        return certs;
    }

    private static X509TrustManager defaultTrust() throws GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init((KeyStore) null);
        return x509(tmf.getTrustManagers());
    }

    private static X509TrustManager x509(TrustManager[] managers) {
        for (TrustManager m : managers) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X.509 trust manager in this JVM");
    }
}
