package io.sipha.badinput;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What the API server would say of a SipServerPair spec, from the generated CRD: the structural
 * schema's keywords that the CRD uses (type, required, enum, minimum, maximum, minItems, maxItems,
 * pattern with RE2 semantics as in Go, items, properties) and its CEL rules
 * (x-kubernetes-validations), evaluated with the CEL reference implementation. Defaulting is not
 * applied: the bad inputs never depend on it.
 */
final class CrdSchema {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private final JsonNode specSchema;
  private final CelCompiler cel =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .build();
  private final CelRuntime runtime = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  CrdSchema(Path crd) throws IOException {
    JsonNode root = null;
    Iterator<JsonNode> docs =
        YAML.readValues(YAML.getFactory().createParser(crd.toFile()), JsonNode.class);
    while (docs.hasNext()) {
      JsonNode d = docs.next();
      if (d != null && "CustomResourceDefinition".equals(d.path("kind").asText())) {
        root = d;
      }
    }
    if (root == null) {
      throw new IllegalArgumentException("no CustomResourceDefinition in " + crd);
    }
    specSchema =
        root.path("spec")
            .path("versions")
            .get(0)
            .path("schema")
            .path("openAPIV3Schema")
            .path("properties")
            .path("spec");
  }

  /** The violations the API server would report for this spec; empty if it would store it. */
  List<String> violations(Map<String, Object> spec) {
    List<String> out = new ArrayList<>();
    check(specSchema, JSON.valueToTree(spec), "spec", out);
    return out;
  }

  private void check(JsonNode schema, JsonNode value, String path, List<String> out) {
    if (value == null || value.isNull()) {
      return;
    }
    String type = schema.path("type").asText("");
    boolean typeOk =
        switch (type) {
          case "object" -> value.isObject();
          case "array" -> value.isArray();
          case "string" -> value.isTextual();
          case "integer" -> value.isIntegralNumber();
          case "boolean" -> value.isBoolean();
          default -> true;
        };
    if (!typeOk) {
      out.add(path + ": must be of type " + type);
      return;
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode e : schema.get("enum")) {
        found |= e.equals(value);
      }
      if (!found) {
        out.add(path + ": unsupported value " + value);
      }
    }
    if (schema.has("minimum")
        && value.isNumber()
        && value.asDouble() < schema.get("minimum").asDouble()) {
      out.add(path + ": should be greater than or equal to " + schema.get("minimum").asText());
    }
    if (schema.has("maximum")
        && value.isNumber()
        && value.asDouble() > schema.get("maximum").asDouble()) {
      out.add(path + ": should be less than or equal to " + schema.get("maximum").asText());
    }
    if (schema.has("pattern")
        && value.isTextual()
        && !com.google.re2j.Pattern.compile(schema.get("pattern").asText())
            .matcher(value.asText())
            .find()) {
      out.add(path + ": should match '" + schema.get("pattern").asText() + "'");
    }
    if (value.isArray()) {
      if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
        out.add(path + ": should have at least " + schema.get("minItems").asInt() + " items");
      }
      if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
        out.add(path + ": must have at most " + schema.get("maxItems").asInt() + " items");
      }
      if (schema.has("items")) {
        for (int i = 0; i < value.size(); i++) {
          check(schema.get("items"), value.get(i), path + "[" + i + "]", out);
        }
      }
    }
    if (value.isObject()) {
      for (JsonNode r : schema.path("required")) {
        if (!value.has(r.asText()) || value.get(r.asText()).isNull()) {
          out.add(path + "." + r.asText() + ": Required value");
        }
      }
      schema
          .path("properties")
          .fields()
          .forEachRemaining(
              e -> check(e.getValue(), value.get(e.getKey()), path + "." + e.getKey(), out));
    }
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      if (!celHolds(rule.path("rule").asText(), JSON.convertValue(value, Object.class))) {
        out.add(path + rule.path("fieldPath").asText("") + ": " + rule.path("message").asText());
      }
    }
  }

  private boolean celHolds(String rule, Object self) {
    try {
      Object result = runtime.createProgram(cel.compile(rule).getAst()).eval(Map.of("self", self));
      return Boolean.TRUE.equals(result);
    } catch (dev.cel.runtime.CelEvaluationException e) {
      return false; // the API server reports an evaluation error as a refusal too
    } catch (dev.cel.common.CelValidationException e) {
      throw new IllegalStateException(
          "CEL rule " + rule + " does not compile: " + e.getMessage(), e);
    }
  }
}
