package io.fedtune.operator.apiserver;

import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.DefaultMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fedtune.strictapi.ChartRole;
import io.fedtune.strictapi.StrictDispatcher;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import java.lang.reflect.Field;
import java.util.List;
import java.util.function.Consumer;

/**
 * Makes the Quarkus test API server ({@code @WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)}) a
 * strict one: its CRUD dispatcher is wrapped in a {@link StrictDispatcher} with the ClusterRole the chart renders, so
 * the operator's requests (the test profile gives its client {@link StrictDispatcher#OPERATOR_TOKEN}) are authorized
 * like the chart's service account's, and what anyone writes is validated. The test's own requests go through an
 * {@link Admin} client. {@link StrictApiCheck} fails a test during which anything was refused.
 * The mock server has no hook for its dispatcher, so it is swapped through its two private fields (fabric8 7.3.1).
 */
public final class StrictApiServer implements Consumer<KubernetesServer> {
    private static volatile StrictDispatcher current;

    @Override
    public void accept(KubernetesServer server) {
        try {
            KubernetesMockServer mock = server.getKubernetesMockServer();
            Dispatcher crud = (Dispatcher) field(KubernetesMockServer.class, "dispatcher").get(mock);
            MockWebServer web = (MockWebServer) field(DefaultMockServer.class, "server").get(mock);
            StrictDispatcher strict = new StrictDispatcher(crud, ChartRole.render(ChartRole.findChart()));
            web.setDispatcher(strict);
            current = strict;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot wrap the mock API server's dispatcher (fabric8 changed?)", e);
        }
    }

    /** The strict dispatcher of the running test server, if one was set up. */
    public static StrictDispatcher current() {
        return current;
    }

    /** The operator's permissions used so far, one "verb resource[.group]" a line (called reflectively). */
    public static List<String> used() {
        return current == null ? List.of() : current.used().stream().map(Object::toString).toList();
    }

    /** Refusals so far, for {@link StrictApiCheck} (called reflectively from JUnit's class loader). */
    public static List<String> refusals() {
        return current == null ? List.of() : current.refusals();
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }
}
