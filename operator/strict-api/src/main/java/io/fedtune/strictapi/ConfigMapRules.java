package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** ValidateConfigMap: each key of data and binaryData a config key, and all values together at most 1 MiB. */
final class ConfigMapRules {
    static final long CONFIG_MAP_MAX = 1024 * 1024;

    private ConfigMapRules() {
    }

    static void validate(JsonNode cm, List<FieldError> errors) {
        long size = 0;
        for (String section : List.of("data", "binaryData")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = cm.path(section).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String key = entry.getKey();
                if (key.length() > 253) {
                    errors.add(FieldError.invalid(section + "[" + key + "]", key, "must be no more than 253 characters"));
                }
                if (!NameRules.isConfigKey(key)) {
                    errors.add(FieldError.invalid(section + "[" + key + "]", key, NameRules.CONFIG_KEY_MSG));
                }
                size += section.equals("data") ? MetadataRules.bytes(entry.getValue().asText())
                        : Base64.getDecoder().decode(entry.getValue().asText()).length;
            }
        }
        if (size > CONFIG_MAP_MAX) {
            errors.add(FieldError.tooLong("[]", CONFIG_MAP_MAX));
        }
    }
}
