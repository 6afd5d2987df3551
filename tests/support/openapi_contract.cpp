#include "support/openapi_contract.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace threatd::testing {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 64;  // guards against $ref cycles
constexpr const char* kMethods[] = {"get", "put", "post", "delete", "patch", "head", "options"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = path.find('/', start);
    const size_t stop = end == std::string_view::npos ? path.size() : end;
    out.emplace_back(path.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool IsTemplate(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// The JSON type name as OpenAPI spells it.
std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "other";
  }
}

bool HasType(const json& v, const std::string& type) {
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    return v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()));
  }
  return TypeName(v) == type;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string PropertyPath(const std::string& path, const std::string& key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  return plain ? path + "." + key : path + "[" + json(key).dump() + "]";
}

}  // namespace

OpenApiContract::OpenApiContract(json document) : document_(std::move(document)) {}

const json* OpenApiContract::Resolve(const json& maybe_ref, std::string* error) const {
  const json* node = &maybe_ref;
  for (int hops = 0; node->is_object() && node->contains("$ref"); ++hops) {
    const auto& ref = (*node)["$ref"];
    if (!ref.is_string() || ref.get<std::string>().rfind("#/", 0) != 0) {
      *error = "unsupported $ref " + ref.dump();
      return nullptr;
    }
    if (hops > kMaxDepth) {
      *error = "$ref cycle at " + ref.get<std::string>();
      return nullptr;
    }
    try {
      node = &document_.at(json::json_pointer(ref.get<std::string>().substr(1)));
    } catch (const json::exception&) {
      *error = "unresolved $ref " + ref.get<std::string>();
      return nullptr;
    }
  }
  return node;
}

std::vector<std::string> OpenApiContract::Operations() const {
  std::vector<std::string> out;
  if (!document_.contains("paths")) return out;
  for (const auto& [path, item] : document_["paths"].items()) {
    for (const char* m : kMethods)
      if (item.contains(m)) out.push_back(Upper(m) + " " + path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string OpenApiContract::OperationFor(std::string_view method, std::string_view target) const {
  const std::string m = Lower(method);
  const std::string_view path = target.substr(0, target.find('?'));
  const auto want = Segments(path);
  std::string best;
  int best_literals = -1;
  if (!document_.contains("paths")) return best;
  for (const auto& [templ, item] : document_["paths"].items()) {
    if (!item.contains(m)) continue;
    const auto have = Segments(templ);
    if (have.size() != want.size()) continue;
    int literals = 0;
    bool match = true;
    for (size_t i = 0; i < have.size() && match; ++i) {
      if (IsTemplate(have[i])) {
        match = !want[i].empty();
      } else {
        match = have[i] == want[i];
        ++literals;
      }
    }
    if (match && literals > best_literals) {
      best_literals = literals;
      best = Upper(m) + " " + templ;
    }
  }
  return best;
}

const json* OpenApiContract::FindOperation(const std::string& operation) const {
  const size_t space = operation.find(' ');
  if (space == std::string::npos) return nullptr;
  const std::string m = Lower(operation.substr(0, space));
  const std::string path = operation.substr(space + 1);
  if (!document_.contains("paths") || !document_["paths"].contains(path)) return nullptr;
  const auto& item = document_["paths"][path];
  return item.contains(m) ? &item[m] : nullptr;
}

bool OpenApiContract::IsPublic(const std::string& operation) const {
  const json* op = FindOperation(operation);
  if (op && op->contains("security")) return (*op)["security"].empty();
  return !document_.contains("security") || document_["security"].empty();
}

std::vector<std::string> OpenApiContract::Check(std::string_view method, std::string_view target, int status,
                                                std::string_view content_type, std::string_view body) const {
  const std::string what = Upper(method) + " " + std::string(target) + " -> " + std::to_string(status);
  const std::string operation = OperationFor(method, target);
  if (operation.empty()) return {what + ": no such operation in the OpenAPI document"};
  const json* op = FindOperation(operation);
  const json& responses = (*op)["responses"];
  const std::string code = std::to_string(status);
  const json* response = nullptr;
  if (responses.contains(code)) {
    response = &responses[code];
  } else if (responses.contains(code.substr(0, 1) + "XX")) {
    response = &responses[code.substr(0, 1) + "XX"];
  } else if (responses.contains("default")) {
    response = &responses["default"];
  }
  if (!response) return {what + ": status " + code + " is not documented for " + operation};
  std::string error;
  response = Resolve(*response, &error);
  if (!response) return {what + ": " + error};
  // No content documented: the body (a static asset, an upgrade) is not checked.
  if (!response->contains("content")) return {};
  const json& content = (*response)["content"];
  const std::string media = Lower(content_type.substr(0, content_type.find(';')));
  const bool json_media = media == "application/json" || media.ends_with("+json");
  const json* entry = nullptr;
  for (const auto& [type, e] : content.items()) {
    if (Lower(type) == media) entry = &e;
  }
  if (!entry) {
    std::vector<std::string> types;
    for (const auto& [type, e] : content.items()) types.push_back(type);
    return {what + ": content type '" + media + "' is not documented (documented: " + Join(types, ", ") + ")"};
  }
  if (!json_media || !entry->contains("schema")) return {};
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return {what + ": the body is not valid JSON"};
  auto mismatches = CheckValue((*entry)["schema"], parsed);
  for (auto& m : mismatches) m = what + ": " + m;
  return mismatches;
}

std::vector<std::string> OpenApiContract::CheckValue(const json& schema, const json& value,
                                                     const std::string& path) const {
  std::vector<std::string> out;
  Validate(schema, value, path, out, 0);
  return out;
}

void OpenApiContract::Validate(const json& schema_in, const json& value, const std::string& path,
                               std::vector<std::string>& out, int depth) const {
  if (depth > kMaxDepth) {
    out.push_back(path + ": schema nesting too deep (a $ref cycle?)");
    return;
  }
  std::string error;
  const json* resolved = Resolve(schema_in, &error);
  if (!resolved) {
    out.push_back(path + ": " + error);
    return;
  }
  const json& schema = *resolved;
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) out.push_back(path + ": no value is allowed here (schema false)");
    return;
  }
  if (!schema.is_object()) return;

  if (value.is_null() && schema.value("nullable", false)) return;

  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    const bool ok = std::any_of(types.begin(), types.end(), [&](const std::string& t) { return HasType(value, t); });
    if (!ok) {
      out.push_back(path + ": expected " + Join(types, " or ") + ", got " + TypeName(value));
      return;
    }
  }
  if (schema.contains("enum")) {
    const auto& values = schema["enum"];
    if (std::find(values.begin(), values.end(), value) == values.end())
      out.push_back(path + ": " + value.dump() + " is not one of " + values.dump());
  }
  if (schema.contains("const") && schema["const"] != value)
    out.push_back(path + ": expected " + schema["const"].dump() + ", got " + value.dump());

  if (schema.contains("allOf")) {
    for (const auto& sub : schema["allOf"]) Validate(sub, value, path, out, depth + 1);
  }
  for (const char* key : {"oneOf", "anyOf"}) {
    if (!schema.contains(key)) continue;
    std::vector<std::string> reasons;
    bool matched = false;
    for (const auto& sub : schema[key]) {
      std::vector<std::string> sub_out;
      Validate(sub, value, path, sub_out, depth + 1);
      if (sub_out.empty()) {
        matched = true;
        break;
      }
      reasons.push_back(Join(sub_out, "; "));
    }
    if (!matched)
      out.push_back(path + ": matches none of the " + std::string(key) + " alternatives (" + Join(reasons, " | ") +
                    ")");
  }

  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& name : schema["required"]) {
        if (!value.contains(name.get<std::string>()))
          out.push_back(PropertyPath(path, name.get<std::string>()) + ": required property is missing");
      }
    }
    const json empty = json::object();
    const json& props = schema.contains("properties") ? schema["properties"] : empty;
    for (const auto& [key, sub] : value.items()) {
      if (props.contains(key)) {
        Validate(props[key], sub, PropertyPath(path, key), out, depth + 1);
      } else if (schema.contains("additionalProperties")) {
        const auto& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) {
          out.push_back(PropertyPath(path, key) + ": property is not allowed (additionalProperties: false)");
        } else if (extra.is_object()) {
          Validate(extra, sub, PropertyPath(path, key), out, depth + 1);
        }
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i)
      Validate(schema["items"], value[i], path + "[" + std::to_string(i) + "]", out, depth + 1);
  }
}

}  // namespace threatd::testing
