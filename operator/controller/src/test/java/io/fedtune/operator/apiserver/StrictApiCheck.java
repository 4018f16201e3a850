package io.fedtune.operator.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test during which the strict API server refused a request: a 403 the operator swallowed (an Event it could
 * not record) or retried (a reconcile that keeps failing) is a defect on a real cluster, whether or not the test's own
 * assertions noticed. Registered for every test (META-INF/services, junit-platform.properties); a no-op where no
 * strict server runs. Quarkus loads test classes in its own class loader, so the server is looked up through the
 * test class's.
 */
public final class StrictApiCheck implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    /** Every permission the operator used in this build's tests, for people (OperatorAccess is the checked list). */
    static final Path USED = Path.of("target", "strict-api", "operator-permissions.txt");
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(StrictApiCheck.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", refusals(context).size());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> all = refusals(context);
        int before = context.getStore(NS).getOrDefault("before", Integer.class, 0);
        if (all.size() > before) {
            throw new AssertionError("the strict API server refused " + (all.size() - before) + " request(s) during this test "
                    + "(a real cluster would too):\n  " + String.join("\n  ", all.subList(before, all.size())));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        List<String> used = call(context, "used");
        if (used.isEmpty()) {
            return;
        }
        TreeSet<String> all = new TreeSet<>(used);
        if (Files.exists(USED)) {
            all.addAll(Files.readAllLines(USED));
        }
        Files.createDirectories(USED.getParent());
        Files.write(USED, all);
    }

    private static List<String> refusals(ExtensionContext context) {
        return call(context, "refusals");
    }

    @SuppressWarnings("unchecked")
    private static List<String> call(ExtensionContext context, String method) {
        try {
            Class<?> server = Class.forName(StrictApiServer.class.getName(), true, context.getRequiredTestClass().getClassLoader());
            return (List<String>) server.getMethod(method).invoke(null);
        } catch (ReflectiveOperationException e) {
            return List.of();
        }
    }
}
