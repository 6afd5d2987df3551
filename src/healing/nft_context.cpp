#include "healing/nft_context.h"

#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace threatd::healing::nft {

NftContext::NftContext() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ != nullptr) {
    nft_ctx_buffer_output(ctx_);
    nft_ctx_buffer_error(ctx_);
  }
}

NftContext::~NftContext() {
  if (ctx_ != nullptr) nft_ctx_free(ctx_);
}

Result<std::string> NftContext::Run(const std::string& commands, bool json) {
  nft_ctx_output_set_flags(ctx_, json ? NFT_CTX_OUTPUT_JSON : 0);
  const int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
  std::string output = nft_ctx_get_output_buffer(ctx_);
  std::string errors = nft_ctx_get_error_buffer(ctx_);
  if (rc != 0) return Status::Unavailable(SummarizeErrors(errors));
  return output;
}

Status NetlinkAvailable() {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    return Status::Unavailable(
        fmt::format("nftables is not available: cannot open a netfilter netlink socket ({}); load nf_tables "
                    "(modprobe nf_tables), {}",
                    std::strerror(errno), kLogBackendHint));
  }
  close(fd);
  return Status::Ok();
}

std::optional<Status> UnusableNftables(const std::string& error) {
  if (error.find("Operation not permitted") != std::string::npos) {
    return Status::Unavailable(
        fmt::format("nftables cannot be used: permission denied ({}); run threatd as root or with CAP_NET_ADMIN, {}",
                    error, kLogBackendHint),
        "systemd: AmbientCapabilities=CAP_NET_ADMIN; containers: --cap-add NET_ADMIN");
  }
  // EOPNOTSUPP / EAFNOSUPPORT: no nf_tables (or no inet family) in the kernel.
  for (const char* missing : {"not supported", "Protocol not available"}) {
    if (error.find(missing) != std::string::npos) {
      return Status::Unavailable(
          fmt::format("nftables is not available in this kernel ({}); load nf_tables (modprobe nf_tables), {}",
                      error, kLogBackendHint),
          "nf_tables needs Linux >= 3.13 with CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET");
    }
  }
  return std::nullopt;
}

std::string SummarizeErrors(const std::string& errors) {
  std::istringstream in(errors);
  std::string line;
  std::string out;
  int kept = 0;
  while (std::getline(in, line)) {
    const auto at = line.find("Error:");
    if (at == std::string::npos) continue;
    if (kept++ == 3) {
      out += "; ...";
      break;
    }
    std::string e = line.substr(at);
    if (e.size() > 300) e = e.substr(0, 300) + "...";
    out += out.empty() ? e : "; " + e;
  }
  return out.empty() ? (errors.empty() ? "nft failed without a message" : errors.substr(0, 300)) : out;
}

}  // namespace threatd::healing::nft
