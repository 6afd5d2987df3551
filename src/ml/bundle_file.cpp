// Bundle files on disk and the mapping of input columns onto features.
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "ml/bundle.h"
#include "ml/gzip.h"

namespace threatd::ml {

Result<ModelBundle> ReadBundleFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("cannot open model bundle '{}'", path), "check the --model path");
  std::ostringstream buf;
  buf << in.rdbuf();
  auto r = ParseBundle(buf.str());
  if (!r.ok()) return r.status().WithContext(fmt::format("loading '{}'", path));
  return r;
}

Status WriteBundleFile(const ModelBundle& bundle, const std::string& path) {
  std::string bytes = SerializeBundle(bundle);
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) bytes = GzipCompress(bytes);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::InvalidArgument(fmt::format("cannot write '{}'", path), "check the directory exists and is writable");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status::Internal(fmt::format("write to '{}' failed", path), "check free disk space");
  return Status::Ok();
}

std::string NormalizeFeatureName(std::string_view name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

Result<std::vector<size_t>> ResolveFeatures(const ModelBundle& bundle, const std::vector<std::string>& columns) {
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < columns.size(); ++i) by_name.emplace(NormalizeFeatureName(columns[i]), i);
  std::vector<size_t> mapping;
  std::vector<std::string> missing;
  for (const auto& f : bundle.features) {
    auto it = by_name.find(NormalizeFeatureName(f.name));
    for (size_t a = 0; it == by_name.end() && a < f.aliases.size(); ++a) {
      it = by_name.find(NormalizeFeatureName(f.aliases[a]));
    }
    if (it == by_name.end()) missing.push_back(f.name);
    else mapping.push_back(it->second);
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size(); ++i) list += (i ? ", '" : "'") + missing[i] + "'";
    return Status::Validation(fmt::format("missing features {} (matched {} of {})", list, mapping.size(), bundle.features.size()),
                              "the input lacks columns this model needs; see docs/formats/flows.md");
  }
  return mapping;
}

}  // namespace threatd::ml
