// Service: the composition root of `threatd serve`.
//
// Create() opens and migrates the database, bootstraps the first admin key,
// registers every route and health check, and builds the HTTP server; Start()
// begins listening; Stop() shuts down gracefully (stop accepting, let
// in-flight requests finish within http.shutdown_grace, flush storage).
// Nothing else in the program constructs components: this file shows how
// they fit together.
//
// Thread-safety: Create/Start/Stop are called from one thread (main).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "config/options.h"
#include "http/router.h"

namespace threatd::app {

class Service {
 public:
  // Fails (and the process should exit non-zero) when the database cannot be
  // opened or migrated, or the options are inconsistent.
  static Result<std::unique_ptr<Service>> Create(const config::Options& options, Clock& clock = Clock::System());
  ~Service();

  // Binds and listens. Fails when the address is taken.
  Status Start();
  // The bound port (useful with http.port = 0).
  uint16_t Port() const;
  // "http://127.0.0.1:8000"
  std::string BaseUrl() const;
  // The admin key created on this start, if this was the first start.
  const std::optional<std::string>& BootstrapKey() const;
  // Graceful shutdown; idempotent.
  void Stop();
  // Every route served (the OpenAPI test compares them with the document).
  const http::Router& router() const;

  struct Parts;  // the components; defined in service.cpp

 private:
  explicit Service(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Resolves the directory holding the API docs and console assets:
// http.assets_dir, else <dir of the binary>/../share/threatd.
std::string ResolveAssetsDir(const config::Options& options);

}  // namespace threatd::app
