// Kafka client plumbing shared by threatd's consumers, producers and the
// agent: which cluster to talk to (internal or external providers'), and a
// librdkafka configuration built from it plus per-client properties.
//
// Ownership: ConfPtr/HandlePtr own their librdkafka objects (a ConfPtr handed
// to rd_kafka_new must be release()d, since librdkafka then owns it).
// Thread-safety: plain values and free functions.
// Errors: MakeConf returns InvalidArgument naming the property and librdkafka's
// reason, so a typo in a setting is reported at start-up, not at first use.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/options.h"

namespace threatd::kafka {

struct ClusterSettings {
  std::string bootstrap_servers;
  std::string security_protocol;  // "" = librdkafka's default (plaintext)
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_location;
};

// kafka.bootstrap_servers and kafka.security_protocol/sasl_*/ssl_*.
ClusterSettings InternalCluster(const config::KafkaSection& kafka);
// kafka.external_*; an empty external_bootstrap_servers means the internal
// cluster with its security settings.
ClusterSettings ExternalCluster(const config::KafkaSection& kafka);

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
// rd_kafka_destroy_flags(rk, flags), waiting at most `within`. librdkafka 2.0
// (Debian 12's) can wait forever for one of its broker threads, e.g. after a
// topic the consumer was assigned is deleted (confluentinc/librdkafka#3954):
// then the handle is abandoned, its threads run on until the process exits,
// an error is logged naming `what`, and false is returned, so that stopping a
// consumer never hangs the service. kDestroyWait is how long threatd waits.
inline constexpr std::chrono::seconds kDestroyWait{10};
bool DestroyWithin(rd_kafka_t* rk, int flags, std::chrono::milliseconds within, std::string_view what);

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { DestroyWithin(rk, 0, kDestroyWait, "Kafka client"); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

using Properties = std::vector<std::pair<std::string, std::string>>;

// The cluster's settings (empty ones left out), then `properties` in order.
Result<ConfPtr> MakeConf(const ClusterSettings& cluster, const Properties& properties);

// "host:port" of the first bootstrap server, for messages and health.
std::string FirstBroker(std::string_view bootstrap_servers);

}  // namespace threatd::kafka
