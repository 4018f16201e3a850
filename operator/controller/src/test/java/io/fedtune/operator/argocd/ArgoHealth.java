package io.fedtune.operator.argocd;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fedtune.api.contract.ContractJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/** Runs the chart's Argo CD health Lua against a resource, the way Argo CD does: the object as global {@code obj}. */
public final class ArgoHealth {
    public record Health(String status, String message) {
    }

    private static final Path DIR = locate();

    private ArgoHealth() {
    }

    public static Health of(HasMetadata resource) {
        String script = resource.getKind().equals("FederatedRun") ? "federatedrun.lua" : "clientshard.lua";
        try {
            Globals globals = JsePlatform.standardGlobals();
            globals.set("obj", toLua(ContractJson.mapper().valueToTree(resource)));
            LuaValue result = globals.load(Files.readString(DIR.resolve(script)), script).call();
            return new Health(result.get("status").optjstring(null), result.get("message").optjstring(null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LuaValue toLua(JsonNode node) {
        if (node == null || node.isNull()) {
            return LuaValue.NIL;
        }
        if (node.isObject()) {
            LuaTable table = new LuaTable();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
                var e = it.next();
                table.set(e.getKey(), toLua(e.getValue()));
            }
            return table;
        }
        if (node.isArray()) {
            LuaTable table = new LuaTable();
            for (int i = 0; i < node.size(); i++) {
                table.set(i + 1, toLua(node.get(i)));
            }
            return table;
        }
        if (node.isBoolean()) {
            return LuaValue.valueOf(node.booleanValue());
        }
        if (node.isNumber()) {
            return LuaValue.valueOf(node.doubleValue());
        }
        return LuaValue.valueOf(node.asText());
    }

    private static Path locate() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path dir = p.resolve("charts/fedtune-operator/files/argocd-health");
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        throw new IllegalStateException("charts/fedtune-operator/files/argocd-health not found above " + Path.of("").toAbsolutePath());
    }
}
