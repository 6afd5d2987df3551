#include "flow/labels.h"

#include <unordered_map>

#include "flow/utf8.h"

namespace threatd::flow {
namespace {

// Lower-case, spaces and underscores dropped, every dash spelt '-'.
std::string MatchKey(std::string_view text) {
  std::string utf8 = NormaliseUtf8(text);  // 0x96 -> U+2013
  std::string key;
  key.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    // U+2010..U+2015 (hyphens, en/em dash) are E2 80 90..95; U+FFFD is EF BF BD.
    if (c == 0xE2 && i + 2 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) == 0x80 &&
        static_cast<unsigned char>(utf8[i + 2]) >= 0x90 && static_cast<unsigned char>(utf8[i + 2]) <= 0x95) {
      key.push_back('-');
      i += 2;
    } else if (c == 0xEF && i + 2 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) == 0xBF &&
               static_cast<unsigned char>(utf8[i + 2]) == 0xBD) {
      key.push_back('-');  // a dash lost to a bad decode upstream
      i += 2;
    } else if (c == ' ' || c == '_' || c == '\t') {
      continue;
    } else if (c >= 'A' && c <= 'Z') {
      key.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      key.push_back(static_cast<char>(c));
    }
  }
  return key;
}

const std::unordered_map<std::string, std::string_view>& Aliases() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string, std::string_view>();
    for (std::string_view canonical : kCanonicalLabels) t->emplace(MatchKey(canonical), canonical);
    const std::pair<std::string_view, std::string_view> extra[] = {
        {"Benign", "BENIGN"},
        {"normal", "BENIGN"},  // NSL-KDD, UNSW-NB15 ("Normal")
        {"Bot", "Botnet"},
        {"PortScan", "Portscan"},
        {"Web Attack - Sql Injection", "Web Attack - SQL Injection"},
        // CSE-CIC-IDS2018 spellings of the same attacks.
        {"DoS attacks-Hulk", "DoS Hulk"},
        {"DoS attacks-GoldenEye", "DoS GoldenEye"},
        {"DoS attacks-Slowloris", "DoS Slowloris"},
        {"DoS attacks-SlowHTTPTest", "DoS Slowhttptest"},
        {"DDoS attacks-LOIC-HTTP", "DDoS"},
        {"FTP-BruteForce", "FTP-Patator"},
        {"SSH-Bruteforce", "SSH-Patator"},
        {"Infilteration", "Infiltration"},
        {"Brute Force -Web", "Web Attack - Brute Force"},
        {"Brute Force -XSS", "Web Attack - XSS"},
        {"SQL Injection", "Web Attack - SQL Injection"},
    };
    for (const auto& [alias, canonical] : extra) t->emplace(MatchKey(alias), canonical);
    return t;
  }();
  return *table;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string NormaliseLabel(std::string_view label) {
  label = Trim(label);
  const auto& t = Aliases();
  auto it = t.find(MatchKey(label));
  if (it != t.end()) return std::string(it->second);
  return NormaliseUtf8(label);
}

bool IsKnownLabel(std::string_view label) { return Aliases().count(MatchKey(Trim(label))) > 0; }

}  // namespace threatd::flow
