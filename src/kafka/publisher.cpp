#include "kafka/publisher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "common/thread_name.h"

namespace threatd::kafka {

struct Publisher::Impl {
  Impl(PublisherOptions o, Clock& c, metrics::Registry& r)
      : options(std::move(o)),
        clock(c),
        published(r.GetCounter("threatd_kafka_producer_published_total", "Messages accepted into the producer queue",
                               {{"producer", options.name}})),
        delivered(r.GetCounter("threatd_kafka_producer_delivered_total", "Messages acknowledged by the brokers",
                               {{"producer", options.name}})),
        failed(r.GetCounter("threatd_kafka_producer_failed_total",
                            "Messages whose delivery failed (timeout, broker error, shutdown)",
                            {{"producer", options.name}})),
        dropped(r.GetCounter("threatd_kafka_producer_dropped_total",
                             "Messages refused because the local queue was full (broker down or slow)",
                             {{"producer", options.name}})),
        queued(r.GetGauge("threatd_kafka_producer_queued", "Messages waiting in the producer queue",
                          {{"producer", options.name}})) {}

  void Error(std::string message) {
    std::lock_guard lock(mu);
    last_error = std::move(message);
    last_error_at = clock.Now();
  }

  void OnDelivery(const rd_kafka_message_t* m) {
    std::unique_ptr<DeliveryCallback> cb(static_cast<DeliveryCallback*>(m->_private));
    Status outcome;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      delivered.Inc();
      brokers_down = false;
      std::lock_guard lock(mu);
      last_delivery_at = clock.Now();
    } else {
      failed.Inc();
      const std::string topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "?";
      outcome = Status::Unavailable(fmt::format("Kafka delivery to '{}' failed: {}", topic, rd_kafka_err2str(m->err)),
                                    "check the brokers (kafka.bootstrap_servers) and that the topic exists");
      // One log line per distinct error burst would need state; the counter
      // and last_error carry the rest.
      if (failed.Value() % 1000 == 1) spdlog::warn("kafka producer {}: {}", options.name, outcome.message());
      Error(outcome.message());
    }
    if (cb && *cb) {
      try {
        (*cb)(outcome);
      } catch (const std::exception& e) {
        spdlog::error("kafka producer {}: delivery callback threw: {}", options.name, e.what());
      }
    }
  }

  PublisherOptions options;
  Clock& clock;
  HandlePtr rk;
  std::thread poller;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> brokers_down{false};
  std::atomic<bool> fatal{false};
  std::mutex stop_mu;  // serialises Stop()
  metrics::Counter& published;
  metrics::Counter& delivered;
  metrics::Counter& failed;
  metrics::Counter& dropped;
  metrics::Gauge& queued;

  mutable std::mutex mu;
  std::optional<std::string> last_error;             // guarded by mu
  std::optional<Clock::WallTime> last_error_at;      // guarded by mu
  std::optional<Clock::WallTime> last_delivery_at;   // guarded by mu
};

namespace {

void DeliveryReport(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
  static_cast<Publisher::Impl*>(opaque)->OnDelivery(m);
}

void ErrorReport(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* impl = static_cast<Publisher::Impl*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) impl->brokers_down = true;
  std::string message = fmt::format("{}: {}", rd_kafka_err2name(code), reason);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> why{};
    const auto orig = rd_kafka_fatal_error(rk, why.data(), why.size());
    message = fmt::format("fatal producer error {}: {} (restart threatd)", rd_kafka_err2name(orig), why.data());
    impl->fatal = true;
    spdlog::error("kafka producer {}: {}", impl->options.name, message);
  } else {
    spdlog::warn("kafka producer {}: {}", impl->options.name, message);
  }
  impl->Error(std::move(message));
}

}  // namespace

Result<std::unique_ptr<Publisher>> Publisher::Create(const ClusterSettings& cluster, PublisherOptions options,
                                                     Clock& clock, metrics::Registry& registry) {
  if (options.queue_messages < 1)
    return Status::InvalidArgument("kafka.producer_queue must be at least 1");
  if (options.linger < std::chrono::milliseconds(0) || options.linger > std::chrono::minutes(15))
    return Status::InvalidArgument("kafka.producer_linger must be between 0 and 900s");
  Properties props = {
      {"client.id", "threatd-" + options.name},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.codec", options.compression},
      {"linger.ms", std::to_string(options.linger.count())},
      {"queue.buffering.max.messages", std::to_string(options.queue_messages)},
      {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
  };
  props.insert(props.end(), options.extra.begin(), options.extra.end());
  auto conf = MakeConf(cluster, props);
  if (!conf.ok()) return conf.status();

  auto impl = std::make_unique<Impl>(std::move(options), clock, registry);
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), DeliveryReport);
  rd_kafka_conf_set_error_cb(conf->get(), ErrorReport);
  std::array<char, 512> err{};
  // rd_kafka_new takes ownership of the conf only when it succeeds.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err.data(), err.size());
  if (rk == nullptr) return Status::InvalidArgument(fmt::format("creating the Kafka producer: {}", err.data()));
  (void)conf->release();
  impl->rk.reset(rk);
  return std::unique_ptr<Publisher>(new Publisher(std::move(impl)));
}

Publisher::Publisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Publisher::~Publisher() { Stop(std::chrono::milliseconds(0)); }

void Publisher::Start() {
  if (impl_->started.exchange(true) || impl_->stopping) return;
  impl_->poller = std::thread([impl = impl_.get()] {
    NameThisThread("kafka-publish");
    while (!impl->stopping) {
      rd_kafka_poll(impl->rk.get(), 100);
      impl->queued.Set(rd_kafka_outq_len(impl->rk.get()));
    }
  });
}

Status Publisher::Publish(std::string_view topic, std::string_view key, std::string_view value,
                          const Headers& headers, DeliveryCallback on_delivery) {
  if (impl_->stopping) {
    impl_->dropped.Inc();
    return Status::Unavailable("the Kafka publisher is stopped");
  }
  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, v] : headers)
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(), static_cast<ssize_t>(v.size()));
  }
  // Owned by librdkafka's message (freed in DeliveryReport) once producev succeeds.
  auto* cb = on_delivery ? new DeliveryCallback(std::move(on_delivery)) : nullptr;
  const std::string topic_name(topic);
  // RD_KAFKA_MSG_F_COPY: librdkafka copies key and value, so the const_casts
  // never lead to a write.
  std::array<rd_kafka_vu_t, 6> vus{};
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[n++].u.cstr = topic_name.c_str();
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  if (!key.empty()) {
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = const_cast<char*>(key.data());
    vus[n++].u.mem.size = key.size();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(value.data());
  vus[n++].u.mem.size = value.size();
  if (hdrs != nullptr) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[n++].u.headers = hdrs;
  }
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = cb;
  rd_kafka_error_t* error = rd_kafka_produceva(impl_->rk.get(), vus.data(), n);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (error != nullptr) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    impl_->published.Inc();
    return Status::Ok();
  }
  // On failure the caller still owns the headers and the callback.
  if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
  delete cb;
  impl_->dropped.Inc();
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    // Reported as this producer's last error (health: degraded for a
    // minute), at the first drop and every 1,000th after it: messages are
    // being lost, whether the brokers are down, slow, or missing the topic.
    if (const uint64_t dropped = impl_->dropped.Value(); dropped % 1000 == 1) {
      std::string why = fmt::format("local queue full ({} messages): {} message(s) dropped so far; last for '{}'",
                                    impl_->options.queue_messages, dropped, topic);
      if (dropped % 10000 == 1)
        spdlog::warn("kafka producer {}: {}; brokers {}", impl_->options.name, why,
                     impl_->brokers_down ? "down" : "slow, or the topic does not exist");
      impl_->Error(std::move(why));
    }
    return Status::Unavailable(
        fmt::format("the Kafka producer queue is full ({} messages)", impl_->options.queue_messages),
        "the brokers are down or slower than the producers; see /api/v1/health/detailed (publishers)");
  }
  const std::string why = fmt::format("Kafka refused a message for '{}': {}", topic, rd_kafka_err2str(err));
  impl_->Error(why);
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    return Status::InvalidArgument(why, "the broker's message.max.bytes is smaller than the message");
  return Status::Unavailable(why);
}

Status Publisher::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(impl_->rk.get(), static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return Status::Timeout(fmt::format("{} Kafka message(s) still undelivered after {} ms",
                                     rd_kafka_outq_len(impl_->rk.get()), timeout.count()),
                         "check the brokers (kafka.bootstrap_servers)");
}

void Publisher::Stop(std::chrono::milliseconds flush_timeout) {
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopping = true;
  if (flush_timeout.count() > 0) (void)Flush(flush_timeout);
  if (impl_->poller.joinable()) impl_->poller.join();
  // What is left fails now: its delivery reports (ERR__PURGE_*) are served below.
  rd_kafka_purge(impl_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(impl_->rk.get(), 0);
  (void)rd_kafka_flush(impl_->rk.get(), 100);
  impl_->queued.Set(rd_kafka_outq_len(impl_->rk.get()));
  impl_->stopped = true;
}

PublisherStats Publisher::Stats() const {
  PublisherStats s;
  s.published = impl_->published.Value();
  s.delivered = impl_->delivered.Value();
  s.failed = impl_->failed.Value();
  s.dropped = impl_->dropped.Value();
  s.queued = static_cast<uint64_t>(std::max(0, rd_kafka_outq_len(impl_->rk.get())));
  return s;
}

nlohmann::json Publisher::HealthCheck() const {
  const PublisherStats s = Stats();
  const auto now = impl_->clock.Now();
  std::lock_guard lock(impl_->mu);
  const bool recent_error = impl_->last_error_at && now - *impl_->last_error_at < std::chrono::minutes(1);
  // The Check statuses of the health API (ok | degraded | error | disabled).
  std::string status = "ok";
  if (impl_->stopped || impl_->stopping) status = "disabled";
  else if (impl_->fatal) status = "error";
  else if (impl_->brokers_down || recent_error) status = "degraded";
  nlohmann::json j = {{"status", status},
                      {"stopped", impl_->stopped || impl_->stopping},
                      {"producer", impl_->options.name},
                      {"brokers", impl_->brokers_down ? "down" : "up"},
                      {"published", s.published},
                      {"delivered", s.delivered},
                      {"failed", s.failed},
                      {"dropped", s.dropped},
                      {"queued", s.queued},
                      {"queue_capacity", impl_->options.queue_messages}};
  auto opt_time = [](const std::optional<Clock::WallTime>& t) {
    return t ? nlohmann::json(FormatIso8601(*t)) : nlohmann::json(nullptr);
  };
  j["last_error"] = impl_->last_error ? nlohmann::json(*impl_->last_error) : nlohmann::json(nullptr);
  j["last_error_at"] = opt_time(impl_->last_error_at);
  j["last_delivery_at"] = opt_time(impl_->last_delivery_at);
  return j;
}

}  // namespace threatd::kafka
