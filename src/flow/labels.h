// Class label normalisation: one spelling per class across dialects, so a
// model trained on one data set evaluates on another.
//
// Canonical spellings are the improved CIC-IDS2017 data set's 16 labels
// (kCanonicalLabels). Matching ignores case, spaces and the kind of dash
// (hyphen, en/em dash, the cp1252 byte 0x96), and knows the aliases
// `Bot`, `PortScan`, `Benign`/`normal`, `Sql Injection`, the CSE-CIC-IDS2018
// spellings (`DoS attacks-Hulk`, `FTP-BruteForce`, `Infilteration`, ...).
// Unknown labels pass through trimmed (and as valid UTF-8).
//
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace threatd::flow {

inline constexpr std::array<std::string_view, 16> kCanonicalLabels = {
    "BENIGN", "Botnet", "DDoS", "DoS GoldenEye", "DoS Hulk", "DoS Slowhttptest",
    "DoS Slowloris", "FTP-Patator", "Heartbleed", "Infiltration", "Infiltration - Portscan",
    "Portscan", "SSH-Patator", "Web Attack - Brute Force", "Web Attack - SQL Injection",
    "Web Attack - XSS"};

inline constexpr std::string_view kBenignLabel = "BENIGN";

// The canonical spelling of `label`, or `label` trimmed when unknown.
std::string NormaliseLabel(std::string_view label);

// True when `label` normalises to one of kCanonicalLabels.
bool IsKnownLabel(std::string_view label);

}  // namespace threatd::flow
