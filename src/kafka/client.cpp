#include "kafka/client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <future>
#include <thread>

namespace threatd::kafka {

ClusterSettings InternalCluster(const config::KafkaSection& k) {
  return {k.bootstrap_servers, k.security_protocol, k.sasl_mechanism, k.sasl_username, k.sasl_password,
          k.ssl_ca_location};
}

ClusterSettings ExternalCluster(const config::KafkaSection& k) {
  if (k.external_bootstrap_servers.empty()) return InternalCluster(k);
  return {k.external_bootstrap_servers, k.external_security_protocol, k.external_sasl_mechanism,
          k.external_sasl_username, k.external_sasl_password, k.external_ssl_ca_location};
}

Result<ConfPtr> MakeConf(const ClusterSettings& cluster, const Properties& properties) {
  if (cluster.bootstrap_servers.empty())
    return Status::InvalidArgument("no Kafka brokers configured: set kafka.bootstrap_servers (KAFKA_BOOTSTRAP_SERVERS)");
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  auto set = [&](std::string_view name, const std::string& value, bool secret) -> Status {
    if (value.empty()) return Status::Ok();
    if (rd_kafka_conf_set(conf.get(), std::string(name).c_str(), value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK)
      return Status::InvalidArgument(fmt::format("Kafka setting {}={}: {}", name, secret ? "<secret>" : value,
                                                 err.data()));
    return Status::Ok();
  };
  THREATD_RETURN_IF_ERROR(set("bootstrap.servers", cluster.bootstrap_servers, false));
  THREATD_RETURN_IF_ERROR(set("security.protocol", cluster.security_protocol, false));
  THREATD_RETURN_IF_ERROR(set("sasl.mechanisms", cluster.sasl_mechanism, false));
  THREATD_RETURN_IF_ERROR(set("sasl.username", cluster.sasl_username, false));
  THREATD_RETURN_IF_ERROR(set("sasl.password", cluster.sasl_password, true));
  THREATD_RETURN_IF_ERROR(set("ssl.ca.location", cluster.ssl_ca_location, false));
  for (const auto& [name, value] : properties) THREATD_RETURN_IF_ERROR(set(name, value, false));
  return conf;
}

std::string FirstBroker(std::string_view bootstrap_servers) {
  const auto comma = bootstrap_servers.find(',');
  return std::string(bootstrap_servers.substr(0, comma));
}

bool DestroyWithin(rd_kafka_t* rk, int flags, std::chrono::milliseconds within, std::string_view what) {
  if (rk == nullptr) return true;
  std::promise<void> done;
  std::future<void> destroyed = done.get_future();
  std::thread([rk, flags, done = std::move(done)]() mutable {
    rd_kafka_destroy_flags(rk, flags);
    done.set_value();
  }).detach();
  if (destroyed.wait_for(within) == std::future_status::ready) return true;
  spdlog::error("{}: librdkafka did not shut its client down within {} ms; abandoning it (its threads stay until "
                "the process exits)",
                what, within.count());
  return false;
}

}  // namespace threatd::kafka
