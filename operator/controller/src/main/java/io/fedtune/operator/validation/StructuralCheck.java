package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;

/** Types, required fields, ranges, enums, patterns and sizes of one kind, checked by a JSON Schema validator. */
final class StructuralCheck {
    // json-schema-validator 3 is built on Jackson 3 and fabric8 on Jackson 2: documents cross over as JSON text.
    private static final JsonMapper JACKSON3 = JsonMapper.builder().build();

    private final Schema schema;
    private final SchemaMessages messages;

    StructuralCheck(JSONSchemaProps root) {
        ObjectNode draft4 = Draft4Schema.fromRoot(root);
        this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
                .getSchema(JACKSON3.readTree(Serialization.asJson(draft4)));
        this.schema.initializeValidators();
        this.messages = new SchemaMessages(draft4);
    }

    List<Violation> check(JsonNode defaulted) {
        List<Error> errors = schema.validate(JACKSON3.readTree(Serialization.asJson(defaulted)));
        List<Violation> violations = new ArrayList<>(errors.size());
        List<Error> seen = new ArrayList<>(errors.size());
        for (Error error : errors) {
            if (!SchemaMessages.isSecondaryAnyOfBranch(error, seen)) {
                violations.add(messages.toViolation(error));
            }
            seen.add(error);
        }
        return violations;
    }
}
