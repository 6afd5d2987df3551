// OpenApiContract on a tiny document: operation matching, every supported
// schema keyword, and the precise mismatch lines.
#include "support/openapi_contract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace threatd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

json TinyDocument() {
  return json::parse(R"({
    "openapi": "3.1.0",
    "security": [{"bearer": []}],
    "paths": {
      "/items/{id}": {"get": {"responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
        "404": {"$ref": "#/components/responses/Error"}}}},
      "/items/stats": {"get": {"security": [], "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object",
          "properties": {"count": {"type": "integer"}}, "additionalProperties": false}}}}}}},
      "/metrics": {"get": {"responses": {"200": {"description": "text", "content": {"text/plain": {}}}}}},
      "/ws": {"get": {"responses": {"101": {"description": "upgrade"}}}}
    },
    "components": {
      "responses": {"Error": {"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
      "schemas": {
        "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
        "Item": {"type": "object", "required": ["id", "kind"],
          "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": ["a", "b"]},
            "note": {"type": ["string", "null"]},
            "old": {"type": "string", "nullable": true},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "predictions": {"type": "array", "items": {"type": "object", "properties": {
              "threat_prediction": {"type": "object", "properties": {"is_attack": {"type": "boolean"}}}}}},
            "mix": {"oneOf": [{"type": "number"}, {"type": "object", "additionalProperties": {"type": "number"}}]},
            "both": {"allOf": [{"type": "object", "required": ["x"]}, {"type": "object", "required": ["y"]}]}
          }}
      }
    }
  })");
}

TEST(OpenApiContract, MatchesLiteralSegmentsBeforeTemplates) {
  OpenApiContract c(TinyDocument());
  EXPECT_EQ(c.OperationFor("get", "/items/7?x=1"), "GET /items/{id}");
  EXPECT_EQ(c.OperationFor("GET", "/items/stats"), "GET /items/stats");
  EXPECT_EQ(c.OperationFor("POST", "/items/7"), "");
  EXPECT_EQ(c.OperationFor("GET", "/items/"), "");
  EXPECT_EQ(c.OperationFor("GET", "/items/7/more"), "");
  EXPECT_THAT(c.Operations(), ElementsAre("GET /items/stats", "GET /items/{id}", "GET /metrics", "GET /ws"));
  EXPECT_TRUE(c.IsPublic("GET /items/stats"));
  EXPECT_FALSE(c.IsPublic("GET /items/{id}"));
}

TEST(OpenApiContract, ConformingBodiesHaveNoMismatches) {
  OpenApiContract c(TinyDocument());
  const std::string body =
      R"({"id": 1, "kind": "a", "note": null, "old": null, "score": 2, "tags": ["x"], "mix": {"DDoS": 0.5},
          "both": {"x": 1, "y": 2}, "extra": true, "predictions": [{"threat_prediction": {"is_attack": false}}]})";
  EXPECT_THAT(c.Check("GET", "/items/1", 200, "application/json; charset=utf-8", body), ElementsAre());
  EXPECT_THAT(c.Check("GET", "/items/1", 404, "application/json", R"({"detail": "nope"})"), ElementsAre());
  EXPECT_THAT(c.Check("GET", "/metrics", 200, "text/plain; version=0.0.4", "a 1\n"), ElementsAre());
  EXPECT_THAT(c.Check("GET", "/ws", 101, "", ""), ElementsAre());
}

TEST(OpenApiContract, ReportsEachMismatchWithItsJsonPath) {
  OpenApiContract c(TinyDocument());
  const std::string body =
      R"({"id": "1", "kind": "c", "note": 5, "old": 1, "tags": ["x", 2], "mix": "half", "both": {"x": 1},
          "predictions": [{"threat_prediction": {"is_attack": "yes"}}]})";
  const auto m = c.Check("GET", "/items/1", 200, "application/json", body);
  const std::string p = "GET /items/1 -> 200: ";
  EXPECT_THAT(m, ::testing::UnorderedElementsAre(
                     p + "$.id: expected integer, got string", p + "$.kind: \"c\" is not one of [\"a\",\"b\"]",
                     p + "$.note: expected string or null, got integer", p + "$.old: expected string, got integer",
                     p + "$.tags[1]: expected string, got integer", HasSubstr(p + "$.mix: matches none of the oneOf"),
                     p + "$.both.y: required property is missing",
                     p + "$.predictions[0].threat_prediction.is_attack: expected boolean, got string"));
}

TEST(OpenApiContract, RequiredAndAdditionalPropertiesFalse) {
  OpenApiContract c(TinyDocument());
  EXPECT_THAT(c.Check("GET", "/items/1", 200, "application/json", R"({"kind": "a"})"),
              ElementsAre("GET /items/1 -> 200: $.id: required property is missing"));
  EXPECT_THAT(c.Check("GET", "/items/stats", 200, "application/json", R"({"count": 1, "total": 2})"),
              ElementsAre("GET /items/stats -> 200: $.total: property is not allowed (additionalProperties: false)"));
  EXPECT_THAT(c.CheckValue(json::parse(R"({"type": "integer"})"), 2.0), ElementsAre());
  EXPECT_THAT(c.CheckValue(json::parse(R"({"type": "integer"})"), 2.5), ElementsAre("$: expected integer, got number"));
}

TEST(OpenApiContract, UndocumentedStatusOperationOrMediaTypeIsAMismatch) {
  OpenApiContract c(TinyDocument());
  EXPECT_THAT(c.Check("GET", "/items/1", 500, "application/json", "{}"),
              ElementsAre("GET /items/1 -> 500: status 500 is not documented for GET /items/{id}"));
  EXPECT_THAT(c.Check("DELETE", "/items/1", 200, "application/json", "{}"),
              ElementsAre("DELETE /items/1 -> 200: no such operation in the OpenAPI document"));
  EXPECT_THAT(c.Check("GET", "/items/1", 200, "text/html", "<p>"), ElementsAre(HasSubstr("'text/html' is not documented")));
  EXPECT_THAT(c.Check("GET", "/items/1", 200, "application/json", "{not json"),
              ElementsAre("GET /items/1 -> 200: the body is not valid JSON"));
}

TEST(OpenApiContract, UnresolvedRefIsReported) {
  OpenApiContract c(TinyDocument());
  EXPECT_THAT(c.CheckValue(json::parse(R"({"$ref": "#/components/schemas/Nope"})"), 1),
              ElementsAre("$: unresolved $ref #/components/schemas/Nope"));
}

}  // namespace
}  // namespace threatd::testing
