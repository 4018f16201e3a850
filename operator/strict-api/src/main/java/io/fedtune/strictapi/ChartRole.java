package io.fedtune.strictapi;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The operator's ClusterRole as the chart installs it: rendered by real Helm (helm-java) with the chart's defaults,
 * and the user its ClusterRoleBinding binds it to (system:serviceaccount:NAMESPACE:NAME).
 */
public final class ChartRole {
    /** The release the strict world installs: with these, the operator is system:serviceaccount:fedtune:fedtune-operator. */
    public static final String RELEASE = "fedtune-operator";
    public static final String NAMESPACE = "fedtune";

    private ChartRole() {
    }

    /** helm template of the chart at {@code chartDir} (charts/fedtune-operator), its role bound to its service account. */
    public static RbacPolicy render(Path chartDir) {
        return of(template(chartDir));
    }

    /** What {@code helm template} prints for the chart at {@code chartDir}, with the release and namespace above. */
    public static String template(Path chartDir) {
        return new Helm(RenderableChart.of(chartDir)).template().withName(RELEASE).withNamespace(NAMESPACE).call();
    }

    /**
     * Prints {@link #template} of the chart given as the argument: for a process that must not load helm-java's Go
     * runtime itself (it takes SIGTERM, SIGINT and SIGQUIT from the JVM).
     */
    public static void main(String[] args) {
        System.out.print(template(Path.of(args[0])));
    }

    /** The role, bound to its service account, in the objects of a rendered chart. */
    public static RbacPolicy of(String renderedChart) {
        List<HasMetadata> objects = RenderableChart.parse(renderedChart);
        ClusterRole role = one(objects, ClusterRole.class);
        ClusterRoleBinding binding = one(objects, ClusterRoleBinding.class);
        ServiceAccount account = one(objects, ServiceAccount.class);
        if (!binding.getRoleRef().getName().equals(role.getMetadata().getName())
                || binding.getSubjects().stream().noneMatch(s -> s.getName().equals(account.getMetadata().getName()))) {
            throw new IllegalStateException("the chart's ClusterRoleBinding does not bind its ClusterRole to its ServiceAccount");
        }
        String namespace = account.getMetadata().getNamespace() != null ? account.getMetadata().getNamespace() : NAMESPACE;
        return new RbacPolicy("system:serviceaccount:" + namespace + ":" + account.getMetadata().getName(), role);
    }

    /** charts/fedtune-operator above the working directory (a module or the repository root). */
    public static Path findChart() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("charts/fedtune-operator"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("charts/fedtune-operator not found above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("charts/fedtune-operator");
    }

    private static <T> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (found.size() != 1) {
            throw new IllegalStateException("expected one " + type.getSimpleName() + " in the rendered chart, found " + found.size());
        }
        return found.get(0);
    }
}
