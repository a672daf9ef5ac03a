package dev.kemu.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The part of JSON Schema that docs/fault-report.schema.json uses: type (one or a list), properties, required,
 * additionalProperties false, items, pattern, enum and local $ref. Enough to hold the documented schema and the
 * emitted reports together without a schema library.
 */
final class SchemaCheck {
    private SchemaCheck() {}

    static void check(JsonNode root, JsonNode schema, JsonNode value, String at, List<String> problems) {
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            JsonNode target = root;
            for (String part : ref.substring(2).split("/")) {
                target = target.get(part);
            }
            check(root, target, value, at, problems);
            return;
        }
        if (schema.has("type") && !typeMatches(schema.get("type"), value)) {
            problems.add(at + ": " + value.getNodeType() + " is not of type " + schema.get("type"));
            return;
        }
        if (schema.has("enum") && value.isTextual()) {
            boolean listed = false;
            for (JsonNode option : schema.get("enum")) {
                listed |= option.asText().equals(value.asText());
            }
            if (!listed) {
                problems.add(at + ": '" + value.asText() + "' not in " + schema.get("enum"));
            }
        }
        if (schema.has("pattern") && value.isTextual() && !value.asText().matches(schema.get("pattern").asText())) {
            problems.add(at + ": '" + value.asText() + "' does not match " + schema.get("pattern").asText());
        }
        if (value.isObject()) {
            JsonNode properties = schema.path("properties");
            for (JsonNode required : schema.path("required")) {
                if (!value.has(required.asText())) {
                    problems.add(at + ": missing " + required.asText());
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (properties.has(field.getKey())) {
                    check(root, properties.get(field.getKey()), field.getValue(), at + "." + field.getKey(), problems);
                } else if (schema.path("additionalProperties").isBoolean() && !schema.get("additionalProperties").asBoolean()) {
                    problems.add(at + ": undocumented field " + field.getKey());
                } else if (schema.path("additionalProperties").isObject()) {
                    check(root, schema.get("additionalProperties"), field.getValue(), at + "." + field.getKey(), problems);
                }
            }
        }
        if (value.isArray() && schema.has("items")) {
            int i = 0;
            for (JsonNode item : value) {
                check(root, schema.get("items"), item, at + "[" + i++ + "]", problems);
            }
        }
    }

    private static boolean typeMatches(JsonNode type, JsonNode value) {
        if (type.isArray()) {
            for (JsonNode one : type) {
                if (typeMatches(one, value)) {
                    return true;
                }
            }
            return false;
        }
        return switch (type.asText()) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "integer" -> value.isIntegralNumber();
            case "boolean" -> value.isBoolean();
            case "null" -> value.isNull();
            default -> false;
        };
    }
}
