// OpenApiContract: checks HTTP responses against an OpenAPI 3.x document.
//
// Built from the document the service serves (GET /api/v1/openapi.json).
// Check() finds the operation for a method and a concrete target (query
// ignored; literal segments win over {templates}), picks the response
// documented for the status code (or "default"), and validates the body
// against its application/json schema. Supported schema keywords: type (one
// or an array, "null" included), nullable, enum, const, required, properties,
// additionalProperties (false or a schema), items, $ref (local "#/..."
// pointers, also for whole responses), allOf, oneOf/anyOf (first match wins).
// Unknown keywords (format, minimum, ...) are ignored.
//
// Each mismatch is one precise line, e.g.
//   "$.predictions[0].threat_prediction.is_attack: expected boolean, got string"
// An undocumented operation or status, or a non-JSON body where JSON is
// documented, is itself a mismatch.
//
// Thread-safety: const methods only, safe to share after construction.
// Nothing blocks.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace threatd::testing {

class OpenApiContract {
 public:
  explicit OpenApiContract(nlohmann::json document);

  // "GET /api/v1/models/{id}" for ("GET", "/api/v1/models/7?x=1"); empty when
  // the document has no such operation. `method` is case-insensitive.
  std::string OperationFor(std::string_view method, std::string_view target) const;

  // Every operation of the document, "METHOD /path/{template}", sorted.
  std::vector<std::string> Operations() const;

  // Mismatches of one response; empty when it conforms. `content_type` may
  // carry parameters ("application/json; charset=utf-8").
  std::vector<std::string> Check(std::string_view method, std::string_view target, int status,
                                 std::string_view content_type, std::string_view body) const;

  // Mismatches of `value` against `schema`, paths starting at `path`.
  std::vector<std::string> CheckValue(const nlohmann::json& schema, const nlohmann::json& value,
                                      const std::string& path = "$") const;

  // Operation security: true when the operation is public (security: []).
  bool IsPublic(const std::string& operation) const;

  const nlohmann::json& document() const { return document_; }

 private:
  const nlohmann::json* Resolve(const nlohmann::json& maybe_ref, std::string* error) const;
  const nlohmann::json* FindOperation(const std::string& operation) const;
  void Validate(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path,
                std::vector<std::string>& out, int depth) const;

  nlohmann::json document_;
};

}  // namespace threatd::testing
