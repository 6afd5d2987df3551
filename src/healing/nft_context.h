// NftContext: a non-copyable RAII holder of one libnftables context (struct
// nft_ctx), with output and errors captured in buffers, never printed; and
// the classification of errors that mean "nftables cannot be used here".
//
// libnftables acts on the network namespace of the thread that opens its
// netlink socket, and it exit()s the process when it cannot open one - so
// callers probe with NetlinkAvailable() first.
//
// Thread-safety: one NftContext is used by one thread at a time.
// Errors: Run() returns Unavailable with nft's "Error:" lines (the echoed
// command, which may hold 100,000 elements, is left out).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct nft_ctx;  // libnftables; its header stays out of ours

namespace threatd::healing::nft {

inline constexpr std::string_view kLogBackendHint =
    "or choose the log backend (healing.backend: log) to only record decisions";

class NftContext {
 public:
  NftContext();
  ~NftContext();
  NftContext(const NftContext&) = delete;
  NftContext& operator=(const NftContext&) = delete;

  // False when libnftables could not allocate a context.
  bool ok() const { return ctx_ != nullptr; }
  // Runs `commands` as one transaction; nft's output (JSON when `json`).
  Result<std::string> Run(const std::string& commands, bool json = false);

 private:
  nft_ctx* ctx_;  // owned
};

// Ok when a netfilter netlink socket can be opened (nfnetlink is present),
// else Unavailable saying to load nf_tables or choose the log backend.
Status NetlinkAvailable();

// For an nft error met while starting: the Status that says nftables cannot
// be used and what to do (no CAP_NET_ADMIN; no nf_tables in the kernel), or
// nullopt for other errors.
std::optional<Status> UnusableNftables(const std::string& error);

// nft's error buffer reduced to its "Error:" lines (at most 3, 300 chars each).
std::string SummarizeErrors(const std::string& errors);

}  // namespace threatd::healing::nft
