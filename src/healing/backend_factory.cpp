#include "healing/backend_factory.h"

#include <fmt/format.h>

#include "healing/log_backend.h"
#include "healing/nftables_backend.h"
#include "healing/script_backend.h"
#include "healing/webhook_backend.h"

namespace threatd::healing {

Result<std::unique_ptr<EnforcementBackend>> MakeBackend(const config::HealingSection& h) {
  if (h.backend == "log") return std::unique_ptr<EnforcementBackend>(std::make_unique<LogBackend>());
  if (h.backend == "nftables") {
    NftablesOptions o;
    o.table = h.nftables_table;
    o.cleanup_on_shutdown = h.cleanup_on_shutdown;
    THREATD_RETURN_IF_ERROR(o.Validate());
    return std::unique_ptr<EnforcementBackend>(std::make_unique<NftablesBackend>(std::move(o)));
  }
  if (h.backend == "script") {
    if (h.script_path.empty())
      return Status::InvalidArgument("healing.backend is script but healing.script_path is empty",
                                     "set healing.script_path (THREATD_HEALING_SCRIPT_PATH) to an executable");
    ScriptBackendOptions o;
    o.path = h.script_path;
    o.timeout = h.script_timeout;
    return std::unique_ptr<EnforcementBackend>(std::make_unique<ScriptBackend>(std::move(o)));
  }
  if (h.backend == "webhook") {
    if (h.webhook_url.empty())
      return Status::InvalidArgument("healing.backend is webhook but healing.webhook_url is empty",
                                     "set healing.webhook_url (THREATD_HEALING_WEBHOOK_URL)");
    WebhookBackendOptions o;
    o.url = h.webhook_url;
    if (!h.webhook_token.empty()) o.headers.emplace_back("Authorization", "Bearer " + h.webhook_token);
    o.attempt_timeout = h.webhook_timeout;
    return std::unique_ptr<EnforcementBackend>(std::make_unique<WebhookBackend>(std::move(o)));
  }
  return Status::InvalidArgument(fmt::format("healing.backend '{}' is not known", h.backend),
                                 "use log, nftables, script or webhook");
}

}  // namespace threatd::healing
