#include "kafka/flow_consumer.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/thread_name.h"
#include "flow/column_aliases.h"
#include "ingest/source_states.h"
#include "ingest/whitelist_matcher.h"
#include "kafka/flow_message.h"

namespace threatd::kafka {

using std::chrono::milliseconds;
using Mono = Clock::MonoTime;

std::string_view ToString(ConsumerState state) {
  switch (state) {
    case ConsumerState::kDisabled: return "disabled";
    case ConsumerState::kConnecting: return "connecting";
    case ConsumerState::kRunning: return "running";
    case ConsumerState::kDegraded: return "degraded";
    case ConsumerState::kError: return "error";
  }
  return "error";
}

namespace {

constexpr milliseconds kPollSlice{50};
constexpr size_t kMaxClusterTopics = 200;

FlowConsumerOptions Common(const config::KafkaSection& k) {
  FlowConsumerOptions o;
  o.auto_offset_reset = k.auto_offset_reset;
  o.batch_max_messages = static_cast<size_t>(std::max(1, k.batch_max_messages));
  o.batch_wait = k.batch_wait;
  o.fetch_queue_kbytes = static_cast<size_t>(std::max(1024, k.fetch_queue_kbytes));
  return o;
}

// Outcome of a submitted batch, pushed by the pipeline's `done` callback.
struct Completion {
  uint64_t batch_id = 0;
  Status status;
  size_t stored = 0;
  size_t duplicates = 0;
};

// Shared with `done` callbacks (which may run after a Stop() that gave up
// waiting): they only ever touch this.
struct CompletionQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Completion> items;  // guarded by mu
  bool wake = false;              // guarded by mu

  void Push(Completion c) {
    {
      std::lock_guard lock(mu);
      items.push_back(std::move(c));
    }
    cv.notify_all();
  }
  void Wake() {
    {
      std::lock_guard lock(mu);
      wake = true;
    }
    cv.notify_all();
  }
  std::vector<Completion> Take() {
    std::lock_guard lock(mu);
    return std::exchange(items, {});
  }
  void Wait(milliseconds timeout) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, timeout, [&] { return !items.empty() || wake; });
    wake = false;
  }
};

struct Batch {
  uint64_t id = 0;
  std::map<int32_t, int64_t> next_offsets;  // partition -> last offset + 1
  std::vector<flow::FlowRecord> flows;      // kept for a retry
  std::vector<std::optional<storage::KafkaPosition>> positions;
  size_t messages = 0;
  Mono opened{};
  bool submitted = false;
  bool pipeline_done = false;  // stored (or nothing to store)
  bool failed = false;         // waiting for retry_at
  Mono retry_at{};
  milliseconds backoff{0};
  int dlq_pending = 0;         // dead letters not yet acknowledged
};

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

void LogCb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const char* name = rd_kafka_name(rk);
  if (level <= 3) {
    spdlog::error("librdkafka {} {}: {}", name, fac, buf);
  } else if (level <= 4) {
    spdlog::warn("librdkafka {} {}: {}", name, fac, buf);
  } else if (level <= 6) {
    spdlog::info("librdkafka {} {}: {}", name, fac, buf);
  } else {
    spdlog::debug("librdkafka {} {}: {}", name, fac, buf);
  }
}

}  // namespace

FlowConsumerOptions InternalConsumerOptions(const config::KafkaSection& k) {
  FlowConsumerOptions o = Common(k);
  o.name = "internal";
  o.source = "realtime";
  o.flag = std::string(ingest::kInternalKafkaSource);
  o.cluster = InternalCluster(k);
  o.topic = k.topic_realtime;
  o.group_id = k.group_id;
  return o;
}

FlowConsumerOptions ExternalConsumerOptions(const config::KafkaSection& k) {
  FlowConsumerOptions o = Common(k);
  o.name = "external";
  o.source = "external_kafka";
  o.flag = std::string(ingest::kExternalKafkaSource);
  o.cluster = ExternalCluster(k);
  o.topic = k.topic_external;
  o.group_id = k.external_group_id;
  o.require_whitelisted_sender = true;
  return o;
}

struct FlowConsumer::Impl {
  struct Metrics {
    metrics::Counter& messages;
    metrics::Counter& flows;
    metrics::Counter& duplicates;
    metrics::Counter& dead_lettered;
    metrics::Counter& refused;
    metrics::Counter& dlq_failures;
    metrics::Counter& batch_failures;
    metrics::Counter& commits;
    metrics::Counter& commit_failures;
    metrics::Counter& reconnects;
    metrics::Gauge& state;
    metrics::Gauge& partitions;
  };

  Impl(FlowConsumerOptions options, SubmitFn submit_fn, ingest::SourceStates* f, const ingest::WhitelistMatcher* w,
       Clock& c, metrics::Registry& r)
      : o(std::move(options)),
        submit(std::move(submit_fn)),
        flags(f),
        whitelist(w),
        clock(c),
        registry(r),
        m(MakeMetrics(r, o.topic)),
        rng(std::random_device{}()) {
    if (o.dlq_topic.empty()) o.dlq_topic = o.topic + ".dlq";
    snap.topic = o.topic;
    snap.group_id = o.group_id;
    snap.bootstrap_servers = o.cluster.bootstrap_servers;
  }

  static Metrics MakeMetrics(metrics::Registry& r, const std::string& topic) {
    const metrics::Labels l = {{"topic", topic}};
    return Metrics{
        r.GetCounter("threatd_kafka_messages_total", "Kafka messages consumed (flows and dead letters)", l),
        r.GetCounter("threatd_kafka_flows_stored_total", "Flows from Kafka stored as new rows", l),
        r.GetCounter("threatd_kafka_duplicates_total", "Redelivered Kafka messages found already stored", l),
        r.GetCounter("threatd_kafka_dead_lettered_total", "Messages sent to the dead-letter topic", l),
        r.GetCounter("threatd_kafka_refused_total", "External messages refused (sender not whitelisted or missing)", l),
        r.GetCounter("threatd_kafka_dead_letter_failures_total", "Dead letters the broker did not accept", l),
        r.GetCounter("threatd_kafka_batch_failures_total", "Batches the pipeline failed to store (retried)", l),
        r.GetCounter("threatd_kafka_commits_total", "Offset commits", l),
        r.GetCounter("threatd_kafka_commit_failures_total", "Offset commits that failed", l),
        r.GetCounter("threatd_kafka_reconnects_total", "Consumer clients recreated after an error", l),
        r.GetGauge("threatd_kafka_consumer_state",
                   "Consumer state: 0 disabled, 1 connecting, 2 running, 3 degraded, 4 error", l),
        r.GetGauge("threatd_kafka_assigned_partitions", "Partitions assigned to this instance", l)};
  }

  // --- configuration and collaborators (immutable after construction) ---
  FlowConsumerOptions o;
  SubmitFn submit;
  ingest::SourceStates* flags;
  const ingest::WhitelistMatcher* whitelist;
  Clock& clock;
  metrics::Registry& registry;
  Metrics m;
  FlowMessageOptions parse_options;

  std::shared_ptr<CompletionQueue> completions = std::make_shared<CompletionQueue>();
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  int subscription = 0;

  // --- consumer-thread state (touched only by the thread; librdkafka
  // callbacks are served on it by consume_batch_queue / consumer_poll /
  // poll) ---
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* messages_queue = nullptr;  // rk's consumer queue (a reference of ours)
  rd_kafka_t* producer = nullptr;
  std::array<rd_kafka_message_t*, 256> taken{};  // PollMessages: messages taken in one call
  std::unique_ptr<Batch> open;
  std::deque<std::unique_ptr<Batch>> in_flight;
  uint64_t next_batch_id = 1;
  std::map<int32_t, PartitionStatus> assigned;
  bool paused = false;
  bool fatal = false;
  bool ever_assigned = false;
  std::string connect_error;
  Mono reconnect_at{};
  milliseconds reconnect_backoff{0};
  int brokers_up = -1;
  double max_rtt_ms = 0;
  Mono last_error_mono{};
  bool has_error = false;
  Mono next_metadata{};
  std::deque<std::pair<Mono, uint64_t>> rate_samples;
  Mono last_publish{};
  std::mt19937 rng;
  // counters (published into snap)
  uint64_t messages = 0, flows_stored = 0, duplicates = 0, dead_lettered = 0, refused = 0, dlq_failures = 0,
           batches_failed = 0, commits = 0;

  mutable std::mutex snap_mu;
  ConsumerSnapshot snap;  // guarded by snap_mu
  std::optional<std::string> last_error;        // mirrored into snap
  std::optional<Clock::WallTime> last_error_at;
  std::optional<Clock::WallTime> last_message_at;
  int broker_count = -1;
  std::vector<std::string> cluster_topics;
  std::optional<Clock::WallTime> metadata_at;
  ConsumerState published_state = ConsumerState::kDisabled;
  bool published_once = false;

  bool Enabled() const { return flags == nullptr || o.flag.empty() || flags->IsEnabled(o.flag); }

  milliseconds NextBackoff(milliseconds prev) const {
    return prev.count() == 0 ? o.backoff_initial : std::min(o.backoff_max, prev * 2);
  }
  milliseconds Jitter(milliseconds d) {
    std::uniform_real_distribution<double> dist(0.8, 1.2);
    return milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * dist(rng)));
  }

  void RecordError(std::string error) {
    spdlog::warn("kafka consumer {} ({}): {}", o.name, o.topic, error);
    last_error = std::move(error);
    last_error_at = clock.Now();
    last_error_mono = clock.Monotonic();
    has_error = true;
  }

  // ---------------------------------------------------------------- client
  Status Connect() {
    Properties cp = {{"group.id", o.group_id},
                     {"client.id", "threatd-" + o.name},
                     {"auto.offset.reset", o.auto_offset_reset},
                     {"enable.auto.commit", "false"},
                     {"enable.auto.offset.store", "false"},
                     {"enable.partition.eof", "false"},
                     {"queued.max.messages.kbytes", std::to_string(o.fetch_queue_kbytes)},
                     // A dead instance's partitions move to the others after
                     // 10 s without heartbeats (librdkafka's default is 45 s).
                     {"session.timeout.ms", "10000"},
                     {"heartbeat.interval.ms", "3000"},
                     {"statistics.interval.ms", std::to_string(o.stats_interval.count())},
                     {"reconnect.backoff.ms", std::to_string(o.backoff_initial.count())},
                     {"reconnect.backoff.max.ms", std::to_string(o.backoff_max.count())},
                     {"log.connection.close", "false"}};
    cp.insert(cp.end(), o.consumer_properties.begin(), o.consumer_properties.end());
    auto conf = MakeConf(o.cluster, cp);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_rebalance_cb(conf->get(), &Impl::RebalanceCb);
    rd_kafka_conf_set_error_cb(conf->get(), &Impl::ErrorCb);
    rd_kafka_conf_set_stats_cb(conf->get(), &Impl::StatsCb);
    rd_kafka_conf_set_offset_commit_cb(conf->get(), &Impl::CommitCb);
    rd_kafka_conf_set_log_cb(conf->get(), &LogCb);

    Properties pp = {{"client.id", "threatd-" + o.name + "-dlq"},
                     {"enable.idempotence", "true"},
                     {"linger.ms", "5"},
                     {"message.timeout.ms", "10000"},
                     {"reconnect.backoff.ms", std::to_string(o.backoff_initial.count())},
                     {"reconnect.backoff.max.ms", std::to_string(o.backoff_max.count())},
                     {"log.connection.close", "false"}};
    pp.insert(pp.end(), o.producer_properties.begin(), o.producer_properties.end());
    auto pconf = MakeConf(o.cluster, pp);
    if (!pconf.ok()) return pconf.status();
    rd_kafka_conf_set_opaque(pconf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(pconf->get(), &Impl::DeliveryCb);
    rd_kafka_conf_set_error_cb(pconf->get(), &Impl::ErrorCb);
    rd_kafka_conf_set_log_cb(pconf->get(), &LogCb);

    char err[512] = {0};
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
    if (c == nullptr) return Status::InvalidArgument(fmt::format("creating the Kafka consumer: {}", err));
    (void)conf->release();  // owned by the handle now
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, pconf->get(), err, sizeof err);
    if (p == nullptr) {
      rd_kafka_destroy(c);
      return Status::InvalidArgument(fmt::format("creating the dead-letter producer: {}", err));
    }
    (void)pconf->release();
    rd_kafka_poll_set_consumer(c);
    ListPtr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_resp_err_t e = rd_kafka_subscribe(c, topics.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy_flags(c, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
      rd_kafka_destroy(p);
      return Status::InvalidArgument(fmt::format("subscribing to '{}': {}", o.topic, rd_kafka_err2str(e)));
    }
    rk = c;
    messages_queue = rd_kafka_queue_get_consumer(c);
    producer = p;
    fatal = false;
    paused = false;
    ever_assigned = false;
    brokers_up = -1;
    connect_error.clear();
    spdlog::info("kafka consumer {}: subscribed to '{}' (group '{}', brokers {})", o.name, o.topic, o.group_id,
                 o.cluster.bootstrap_servers);
    return Status::Ok();
  }

  std::string ClientName(std::string_view role) const { return fmt::format("kafka consumer {}: {}", o.name, role); }

  void ScheduleReconnect() {
    reconnect_backoff = NextBackoff(reconnect_backoff);
    reconnect_at = clock.Monotonic() + Jitter(reconnect_backoff);
    m.reconnects.Inc();
  }

  // Drops the client without committing (fatal error): whatever was not
  // committed is redelivered to the next client and deduplicated by storage.
  void Teardown() {
    open.reset();
    in_flight.clear();
    ReleaseQueue();
    DestroyWithin(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE, kDestroyWait, ClientName("consumer"));
    DestroyWithin(producer, 0, kDestroyWait, ClientName("dead-letter producer"));
    rk = nullptr;
    producer = nullptr;
    ClearAssignment();
  }

  // Our reference to the consumer queue goes before the client it belongs to.
  void ReleaseQueue() {
    if (messages_queue != nullptr) rd_kafka_queue_destroy(messages_queue);
    messages_queue = nullptr;
  }

  void ClearAssignment() {
    for (const auto& [p, status] : assigned) LagGauge(p).Set(0);
    assigned.clear();
    m.partitions.Set(0);
  }

  metrics::Gauge& LagGauge(int32_t partition) {
    return registry.GetGauge("threatd_kafka_lag", "Messages behind the partition's high watermark",
                             {{"topic", o.topic}, {"partition", std::to_string(partition)}});
  }

  // ------------------------------------------------------------- callbacks
  static void RebalanceCb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                          void* opaque) {
    static_cast<Impl*>(opaque)->OnRebalance(rk, err, parts);
  }
  static void ErrorCb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    static_cast<Impl*>(opaque)->OnClientError(rk, err, reason);
  }
  static int StatsCb(rd_kafka_t*, char* json, size_t len, void* opaque) {
    static_cast<Impl*>(opaque)->OnStats(std::string_view(json, len));
    return 0;  // librdkafka frees the buffer
  }
  static void CommitCb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    self->m.commit_failures.Inc();
    self->RecordError(fmt::format("committing offsets failed: {} (the messages will be redelivered and "
                                  "deduplicated)", rd_kafka_err2str(err)));
  }
  static void DeliveryCb(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    static_cast<Impl*>(opaque)->OnDelivery(msg);
  }

  void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(handle), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(handle, parts)) {
          RecordError(fmt::format("assigning partitions: {}", rd_kafka_error_string(e)));
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(handle, parts);
      }
      std::string list;
      for (int i = 0; i < parts->cnt; ++i) {
        assigned[parts->elems[i].partition] = PartitionStatus{parts->elems[i].partition, -1, -1};
        list += (i ? "," : "") + std::to_string(parts->elems[i].partition);
      }
      if (paused) rd_kafka_pause_partitions(handle, parts);
      ever_assigned = true;
      reconnect_backoff = milliseconds(0);
      m.partitions.Set(static_cast<double>(assigned.size()));
      spdlog::info("kafka consumer {}: assigned {} partition(s) of '{}': [{}]", o.name, parts->cnt, o.topic, list);
      return;
    }
    // Revoked (or a rebalance error): finish what can be finished, commit
    // it, drop the rest (redelivered to the new owner, deduplicated).
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      FlushOpen();
      Drain(clock.Monotonic() + o.revoke_wait);
      if (!in_flight.empty())
        spdlog::warn("kafka consumer {}: {} batch(es) unfinished at revoke; their messages will be redelivered",
                     o.name, in_flight.size());
    } else {
      RecordError(fmt::format("rebalance failed: {}", rd_kafka_err2str(err)));
      open.reset();
    }
    in_flight.clear();
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(handle, parts)) rd_kafka_error_destroy(e);
      for (int i = 0; i < parts->cnt; ++i) {
        LagGauge(parts->elems[i].partition).Set(0);
        assigned.erase(parts->elems[i].partition);
      }
    } else {
      rd_kafka_assign(handle, nullptr);
      ClearAssignment();
    }
    m.partitions.Set(static_cast<double>(assigned.size()));
    spdlog::info("kafka consumer {}: partitions of '{}' revoked", o.name, o.topic);
  }

  void OnClientError(rd_kafka_t* handle, int err, const char* reason) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512] = {0};
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(handle, buf, sizeof buf);
      fatal = true;
      RecordError(fmt::format("fatal client error {}: {}; recreating the client", rd_kafka_err2name(orig), buf));
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers_up = 0;
    RecordError(fmt::format("{}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason));
  }

  void OnStats(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return;
    int up = 0;
    double rtt = 0;
    if (auto b = j.find("brokers"); b != j.end() && b->is_object()) {
      for (const auto& [name, broker] : b->items()) {
        if (broker.value("nodeid", -1) < 0) continue;  // bootstrap and logical entries
        if (broker.value("state", "") != "UP") continue;
        ++up;
        if (auto r = broker.find("rtt"); r != broker.end() && r->is_object())
          rtt = std::max(rtt, r->value("avg", 0.0) / 1000.0);
      }
    }
    brokers_up = up;
    max_rtt_ms = rtt;
    if (auto t = j.find("topics"); t != j.end() && t->is_object()) {
      if (auto topic = t->find(o.topic); topic != t->end()) {
        if (auto parts = topic->find("partitions"); parts != topic->end() && parts->is_object()) {
          for (auto& [p, status] : assigned) {
            auto it = parts->find(std::to_string(p));
            if (it == parts->end()) continue;
            status.lag = it->value("consumer_lag", int64_t{-1});
            LagGauge(p).Set(static_cast<double>(std::max<int64_t>(0, status.lag)));
          }
        }
      }
    }
  }

  void OnDelivery(const rd_kafka_message_t* msg) {
    const auto id = reinterpret_cast<uintptr_t>(msg->_private);
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++dlq_failures;
      m.dlq_failures.Inc();
      RecordError(fmt::format("dead letter to '{}' failed: {} (counted; the message is not retried; create the "
                              "topic or check the broker)", o.dlq_topic, rd_kafka_err2str(msg->err)));
    }
    if (Batch* b = Find(id)) --b->dlq_pending;
  }

  Batch* Find(uint64_t id) {
    if (open && open->id == id) return open.get();
    for (auto& b : in_flight)
      if (b->id == id) return b.get();
    return nullptr;
  }

  // --------------------------------------------------------------- batches
  Batch& Open() {
    if (!open) {
      open = std::make_unique<Batch>();
      open->id = next_batch_id++;
      open->opened = clock.Monotonic();
      open->flows.reserve(std::min<size_t>(o.batch_max_messages, 8192));
      open->positions.reserve(std::min<size_t>(o.batch_max_messages, 8192));
    }
    return *open;
  }

  void HandleMessage(rd_kafka_message_t* msg) {
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      std::string text = rd_kafka_message_errstr(msg);
      if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        text += fmt::format(" (create the topic '{}' or fix the topic setting)", o.topic);
      RecordError(fmt::format("{}: {}", rd_kafka_err2name(msg->err), text));
      return;
    }
    Batch& b = Open();
    ++b.messages;
    b.next_offsets[msg->partition] = msg->offset + 1;
    ++messages;
    m.messages.Inc();

    // Only the external topic's senders are checked; elsewhere the header
    // is read for a dead letter alone (parsing headers costs per message).
    std::optional<std::string_view> sender;
    if (o.require_whitelisted_sender) sender = SenderHeader(msg);
    const std::string_view payload(static_cast<const char*>(msg->payload), msg->payload ? msg->len : 0);
    auto parsed = ParseFlowMessage(payload, sender, parse_options);
    if (!parsed.ok()) {
      if (!o.require_whitelisted_sender) sender = SenderHeader(msg);
      DeadLetter(msg, b, "parse", parsed.status().message(), sender ? std::string(*sender) : std::string());
      return;
    }
    if (o.require_whitelisted_sender) {
      if (parsed->sender_ip.empty()) {
        Refuse(msg, b, "no sender: set the Kafka header 'sender_ip' or the payload field 'sender_ip'", "");
        return;
      }
      if (whitelist == nullptr || !whitelist->IsWhitelisted(parsed->sender_ip)) {
        Refuse(msg, b,
               fmt::format("sender {} is not whitelisted (add it with POST /api/v1/config/whitelist)",
                           parsed->sender_ip),
               parsed->sender_ip);
        return;
      }
    }
    b.flows.push_back(std::move(parsed->record));
    b.positions.push_back(storage::KafkaPosition{o.topic, msg->partition, msg->offset});
  }

  static std::optional<std::string_view> SenderHeader(rd_kafka_message_t* msg) {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(headers, kSenderHeader.data(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        value == nullptr)
      return std::nullopt;
    return std::string_view(static_cast<const char*>(value), size);
  }

  void Refuse(rd_kafka_message_t* msg, Batch& b, const std::string& reason, const std::string& sender) {
    ++refused;
    m.refused.Inc();
    DeadLetter(msg, b, "refused", reason, sender);
  }

  void DeadLetter(rd_kafka_message_t* msg, Batch& b, std::string_view kind, const std::string& error,
                  const std::string& sender) {
    ++dead_lettered;
    m.dead_lettered.Inc();
    spdlog::debug("kafka consumer {}: dead-lettering {}[{}]@{}: {}", o.name, o.topic, msg->partition, msg->offset,
                  error);
    rd_kafka_headers_t* h = rd_kafka_headers_new(8);
    auto add = [h](const char* name, const std::string& value) {
      rd_kafka_header_add(h, name, -1, value.data(), static_cast<ssize_t>(value.size()));
    };
    add("error", error);
    add("error_kind", std::string(kind));
    add("original_topic", o.topic);
    add("original_partition", std::to_string(msg->partition));
    add("original_offset", std::to_string(msg->offset));
    rd_kafka_timestamp_type_t tstype;
    const int64_t ts = rd_kafka_message_timestamp(msg, &tstype);
    if (ts >= 0) add("original_timestamp", std::to_string(ts));
    if (!sender.empty()) add("sender", sender);
    add("consumer_group", o.group_id);
    // rd_kafka_produceva, not the RD_KAFKA_V_* macros (their C casts fail -Wold-style-cast).
    rd_kafka_vu_t vus[6];
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = o.dlq_topic.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[1].u.i = RD_KAFKA_MSG_F_COPY;
    vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[2].u.mem.ptr = msg->payload;
    vus[2].u.mem.size = msg->payload ? msg->len : 0;
    vus[3].vtype = RD_KAFKA_VTYPE_KEY;
    vus[3].u.mem.ptr = msg->key;
    vus[3].u.mem.size = msg->key ? msg->key_len : 0;
    vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[4].u.headers = h;  // owned by the message once produced
    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[5].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(b.id));
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0; attempt < 100; ++attempt) {
      rd_kafka_error_t* e = rd_kafka_produceva(producer, vus, 6);
      err = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
      if (e) rd_kafka_error_destroy(e);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(producer, 10);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(h);  // not taken over on failure
      ++dlq_failures;
      m.dlq_failures.Inc();
      RecordError(fmt::format("dead letter to '{}' failed: {}", o.dlq_topic, rd_kafka_err2str(err)));
      return;
    }
    ++b.dlq_pending;
  }

  // Moves the open batch in flight and submits its flows.
  void FlushOpen() {
    if (!open || open->messages == 0) return;
    in_flight.push_back(std::move(open));
    Batch& b = *in_flight.back();
    if (b.flows.empty()) {
      b.pipeline_done = true;  // only dead letters
      return;
    }
    SubmitBatch(b);
  }

  void SubmitBatch(Batch& b) {
    pipeline::FlowBatch fb;
    fb.source = o.source;
    fb.flows = b.flows;  // kept for a retry
    fb.kafka = b.positions;
    fb.done = [q = completions, id = b.id](const pipeline::BatchResult& r) {
      q->Push(Completion{id, r.status, r.stored, r.duplicates});
    };
    b.failed = false;
    b.submitted = true;
    if (Status s = submit(std::move(fb)); !s.ok()) Fail(b, s);
  }

  void Fail(Batch& b, const Status& s) {
    ++batches_failed;
    m.batch_failures.Inc();
    b.failed = true;
    b.backoff = NextBackoff(b.backoff);
    const milliseconds wait = Jitter(b.backoff);
    b.retry_at = clock.Monotonic() + wait;
    RecordError(fmt::format("storing a batch of {} flows failed: {}; retrying in {} ms (partitions paused, "
                            "nothing committed past it)",
                            b.flows.size(), s.message(), wait.count()));
  }

  bool AnyFailed() const {
    return std::any_of(in_flight.begin(), in_flight.end(), [](const auto& b) { return b->failed; });
  }

  void ProcessCompletions(bool retry) {
    for (Completion& c : completions->Take()) {
      Batch* b = Find(c.batch_id);
      if (b == nullptr) continue;  // dropped at a rebalance
      if (c.status.ok()) {
        b->pipeline_done = true;
        flows_stored += c.stored;
        duplicates += c.duplicates;
        m.flows.Inc(c.stored);
        m.duplicates.Inc(c.duplicates);
      } else {
        Fail(*b, c.status);
      }
    }
    CommitFinished();
    if (!retry) return;
    const Mono now = clock.Monotonic();
    for (auto& b : in_flight)
      if (b->failed && now >= b->retry_at) SubmitBatch(*b);
  }

  // Commits the offsets of the finished batches at the front: never past one
  // that is not finished.
  void CommitFinished() {
    std::map<int32_t, int64_t> offsets;
    while (!in_flight.empty()) {
      const Batch& b = *in_flight.front();
      if (!b.pipeline_done || b.dlq_pending > 0) break;
      for (const auto& [p, next] : b.next_offsets) offsets[p] = next;
      in_flight.pop_front();
    }
    if (offsets.empty() || rk == nullptr) return;
    ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [p, next] : offsets)
      rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), p)->offset = next;
    if (rd_kafka_resp_err_t err = rd_kafka_commit(rk, list.get(), /*async=*/1); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      m.commit_failures.Inc();
      RecordError(fmt::format("committing offsets failed: {}", rd_kafka_err2str(err)));
      return;
    }
    ++commits;
    m.commits.Inc();
    for (const auto& [p, next] : offsets)
      if (auto it = assigned.find(p); it != assigned.end()) it->second.committed = next;
  }

  // Waits (serving delivery reports and completions) until nothing is in
  // flight, a batch failed, or `deadline`.
  void Drain(Mono deadline) {
    while (!in_flight.empty() && !AnyFailed() && clock.Monotonic() < deadline) {
      if (producer != nullptr) rd_kafka_poll(producer, 0);
      ProcessCompletions(/*retry=*/false);
      if (in_flight.empty() || AnyFailed()) break;
      completions->Wait(milliseconds(10));
    }
  }

  void ApplyPause(bool want) {
    if (want == paused || rk == nullptr) return;
    paused = want;
    if (assigned.empty()) return;
    ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned.size())));
    for (const auto& [p, s] : assigned) rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), p);
    if (want) {
      rd_kafka_pause_partitions(rk, list.get());
    } else {
      rd_kafka_resume_partitions(rk, list.get());
    }
  }

  // Messages already fetched are taken up to `taken.size()` per call, with
  // one clock reading for all of them: librdkafka's poll reads the clock on
  // every call, and so did this loop, for every message (about 5 % of this
  // thread's time in a backlog drain). Only an empty queue is waited on, for
  // one message, so a lone message is handled as soon as it arrives.
  void PollMessages() {
    const uint64_t before = messages;
    Mono now = clock.Monotonic();
    const Mono slice_end = now + kPollSlice;
    bool first = true;
    while (!stopping) {
      Mono until = slice_end;
      if (open && open->messages > 0) until = std::min(until, open->opened + o.batch_wait);
      if (!first && now >= until) break;
      first = false;
      const size_t room = o.batch_max_messages - (open ? std::min(open->messages, o.batch_max_messages) : 0);
      ssize_t n = messages_queue == nullptr
                      ? 0
                      : rd_kafka_consume_batch_queue(messages_queue, 0, taken.data(), std::min(taken.size(), room));
      if (n <= 0) {
        const auto left = std::chrono::duration_cast<milliseconds>(until - now).count();
        taken[0] = rd_kafka_consumer_poll(rk, static_cast<int>(std::max<int64_t>(0, left)));
        n = taken[0] != nullptr ? 1 : 0;
      }
      for (ssize_t i = 0; i < n; ++i) {
        HandleMessage(taken[static_cast<size_t>(i)]);
        rd_kafka_message_destroy(taken[static_cast<size_t>(i)]);
      }
      now = clock.Monotonic();
      if (fatal || paused) break;
      if (open && open->messages >= o.batch_max_messages) break;
    }
    if (messages != before) last_message_at = clock.Now();
    if (open && open->messages > 0 &&
        (open->messages >= o.batch_max_messages || now >= open->opened + o.batch_wait))
      FlushOpen();
  }

  void MaybeRefreshMetadata() {
    const Mono now = clock.Monotonic();
    if (now < next_metadata || brokers_up <= 0) return;
    next_metadata = now + o.metadata_interval;
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 1, nullptr, &md, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR || md == nullptr) {
      next_metadata = now + std::min(o.metadata_interval, milliseconds(5000));
      return;
    }
    broker_count = md->broker_cnt;
    cluster_topics.clear();
    for (int i = 0; i < md->topic_cnt && cluster_topics.size() < kMaxClusterTopics; ++i) {
      const char* name = md->topics[i].topic;
      if (std::strncmp(name, "__", 2) != 0) cluster_topics.emplace_back(name);
    }
    std::sort(cluster_topics.begin(), cluster_topics.end());
    metadata_at = clock.Now();
    rd_kafka_metadata_destroy(md);
  }

  // ------------------------------------------------------------ thread body
  void Run() {
    while (!stopping) {
      const bool enabled = Enabled();
      if (rk == nullptr) {
        const Mono now = clock.Monotonic();
        if (!enabled || now < reconnect_at) {
          Publish();
          completions->Wait(enabled ? std::min(milliseconds(200), std::chrono::duration_cast<milliseconds>(
                                                                       reconnect_at - now))
                                    : milliseconds(200));
          continue;
        }
        if (Status s = Connect(); !s.ok()) {
          connect_error = s.message();
          RecordError(s.message());
          ScheduleReconnect();
          continue;
        }
      }
      if (fatal) {
        Teardown();
        ScheduleReconnect();
        continue;
      }
      if (!enabled) FlushOpen();
      ApplyPause(!enabled || AnyFailed());
      rd_kafka_poll(producer, 0);
      ProcessCompletions(/*retry=*/true);
      MaybeRefreshMetadata();
      if (paused) {
        // Disabled or retrying: keep serving the group (heartbeats, rebalances,
        // max.poll.interval.ms) while nothing new is fetched.
        rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, static_cast<int>(kPollSlice.count()));
        if (msg != nullptr) {
          HandleMessage(msg);
          rd_kafka_message_destroy(msg);
          last_message_at = clock.Now();
        }
        if (open && open->messages > 0 && clock.Monotonic() >= open->opened + o.batch_wait) FlushOpen();
      } else if (in_flight.size() >= o.max_batches_in_flight) {
        completions->Wait(milliseconds(20));  // back-pressure: the pipeline is behind
      } else {
        PollMessages();
      }
      Publish();
    }
    Shutdown();
    Publish(/*force=*/true);
  }

  void Shutdown() {
    if (rk == nullptr) return;
    FlushOpen();
    Drain(clock.Monotonic() + o.stop_wait);
    if (!in_flight.empty())
      spdlog::warn("kafka consumer {}: stopping with {} batch(es) not stored; they will be redelivered", o.name,
                   in_flight.size());
    in_flight.clear();
    ReleaseQueue();
    if (brokers_up > 0) rd_kafka_consumer_close(rk);  // serves the revoke, sends the pending commits, leaves the group
    DestroyWithin(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE, kDestroyWait, ClientName("consumer"));
    rk = nullptr;
    rd_kafka_flush(producer, brokers_up > 0 ? 2000 : 0);
    DestroyWithin(producer, 0, kDestroyWait, ClientName("dead-letter producer"));
    producer = nullptr;
    ClearAssignment();
  }

  std::pair<ConsumerState, std::string> ComputeState() const {
    if (!Enabled())
      return {ConsumerState::kDisabled,
              fmt::format("source '{}' is disabled{}", o.flag, rk ? "; partitions paused" : "")};
    if (rk == nullptr) {
      if (!started || stopping) return {ConsumerState::kDisabled, "stopped"};
      if (connect_error.empty() && reconnect_backoff.count() == 0)
        return {ConsumerState::kConnecting, "creating the client"};
      return {ConsumerState::kError,
              fmt::format("no client ({}); retrying with backoff",
                          connect_error.empty() ? last_error.value_or("starting") : connect_error)};
    }
    if (AnyFailed())
      return {ConsumerState::kDegraded, "storing a batch failed; retrying with backoff: " + last_error.value_or("")};
    if (brokers_up == 0)
      return {ConsumerState::kDegraded,
              fmt::format("no broker reachable at {}; reconnecting with backoff", o.cluster.bootstrap_servers)};
    if (max_rtt_ms > static_cast<double>(o.slow_broker_rtt.count()))
      return {ConsumerState::kDegraded, fmt::format("slow broker: round trip {:.0f} ms", max_rtt_ms)};
    if (has_error && clock.Monotonic() - last_error_mono < o.degraded_window)
      return {ConsumerState::kDegraded, last_error.value_or("")};
    if (!ever_assigned) return {ConsumerState::kConnecting, "joining the consumer group"};
    return {ConsumerState::kRunning, ""};
  }

  void Publish(bool force = false) {
    const Mono now = clock.Monotonic();
    auto [state, detail] = ComputeState();
    const bool changed = !published_once || state != published_state;
    if (!force && !changed && now - last_publish < milliseconds(100)) return;
    last_publish = now;
    if (rate_samples.empty() || now - rate_samples.back().first >= milliseconds(1000))
      rate_samples.emplace_back(now, messages);
    while (rate_samples.size() > 11) rate_samples.pop_front();
    double rate = 0;
    if (rate_samples.size() >= 2) {
      const double secs = std::chrono::duration<double>(rate_samples.back().first - rate_samples.front().first).count();
      if (secs > 0) rate = static_cast<double>(rate_samples.back().second - rate_samples.front().second) / secs;
    }
    if (changed) {
      published_state = state;
      published_once = true;
      m.state.Set(static_cast<double>(state));
      spdlog::info("kafka consumer {} ({}): {}{}{}", o.name, o.topic, ToString(state), detail.empty() ? "" : ": ",
                   detail);
      if (flags != nullptr && !o.flag.empty())
        flags->SetRunning(o.flag, state == ConsumerState::kRunning || state == ConsumerState::kDegraded, detail);
    }
    std::lock_guard lock(snap_mu);
    snap.state = state;
    snap.detail = std::move(detail);
    snap.partitions.clear();
    for (const auto& [p, s] : assigned) snap.partitions.push_back(s);
    snap.last_error = last_error;
    snap.last_error_at = last_error_at;
    snap.last_message_at = last_message_at;
    snap.messages_per_second = rate;
    snap.messages = messages;
    snap.flows_stored = flows_stored;
    snap.duplicates = duplicates;
    snap.dead_lettered = dead_lettered;
    snap.refused = refused;
    snap.dead_letter_failures = dlq_failures;
    snap.batches_failed = batches_failed;
    snap.commits = commits;
    snap.batches_in_flight = in_flight.size();
    snap.brokers_up = brokers_up;
    snap.broker_count = broker_count;
    snap.cluster_topics = cluster_topics;
    snap.metadata_at = metadata_at;
  }
};

FlowConsumer::FlowConsumer(FlowConsumerOptions options, SubmitFn submit, ingest::SourceStates* flags,
                           const ingest::WhitelistMatcher* whitelist, Clock& clock, metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(submit), flags, whitelist, clock, registry)) {}

FlowConsumer::~FlowConsumer() { Stop(); }

Status FlowConsumer::Start() {
  Impl& i = *impl_;
  if (i.started) return Status::Ok();
  if (i.o.topic.empty())
    return Status::InvalidArgument(fmt::format("kafka consumer {}: no topic configured", i.o.name),
                                   "set kafka.topic_realtime / kafka.topic_external");
  if (i.o.group_id.empty())
    return Status::InvalidArgument(fmt::format("kafka consumer {}: no consumer group configured", i.o.name),
                                   "set kafka.group_id / kafka.external_group_id");
  if (i.o.require_whitelisted_sender && i.whitelist == nullptr)
    return Status::InvalidArgument(fmt::format("kafka consumer {}: a sender whitelist is required", i.o.name));
  for (const std::string& name : i.o.required_features) {
    auto f = flow::ResolveFeature(name);
    if (!f) return Status::InvalidArgument(fmt::format("kafka consumer {}: '{}' is no known feature", i.o.name, name));
    i.parse_options.required_features.push_back(*f);
  }
  // Settings are checked here (a typo fails the start); the client itself is
  // created on the thread, so the broker is never waited for.
  Properties probe = {{"group.id", i.o.group_id}, {"auto.offset.reset", i.o.auto_offset_reset}};
  probe.insert(probe.end(), i.o.consumer_properties.begin(), i.o.consumer_properties.end());
  if (auto c = MakeConf(i.o.cluster, probe); !c.ok()) return c.status().WithContext("kafka consumer " + i.o.name);
  if (auto c = MakeConf(i.o.cluster, i.o.producer_properties); !c.ok())
    return c.status().WithContext("kafka dead-letter producer " + i.o.name);
  if (i.flags != nullptr && !i.o.flag.empty()) {
    auto q = i.completions;
    const std::string flag = i.o.flag;
    i.subscription = i.flags->Subscribe([q, flag](const std::string& name, bool) {
      if (name == flag) q->Wake();
    });
  }
  i.started = true;
  i.Publish(/*force=*/true);
  i.thread = std::thread([&i] {
    NameThisThread("kafka-" + i.o.name);
    i.Run();
  });
  return Status::Ok();
}

void FlowConsumer::Stop() {
  Impl& i = *impl_;
  if (!i.started) return;
  i.stopping = true;
  i.completions->Wake();
  if (i.thread.joinable()) i.thread.join();
  if (i.subscription != 0 && i.flags != nullptr) i.flags->Unsubscribe(i.subscription);
  i.subscription = 0;
  i.started = false;
}

ConsumerSnapshot FlowConsumer::Snapshot() const {
  std::lock_guard lock(impl_->snap_mu);
  return impl_->snap;
}

namespace {

std::string_view HealthStatus(ConsumerState s) {
  switch (s) {
    case ConsumerState::kRunning: return "ok";
    case ConsumerState::kConnecting:
    case ConsumerState::kDegraded: return "degraded";
    case ConsumerState::kDisabled: return "disabled";
    case ConsumerState::kError: return "error";
  }
  return "error";
}

nlohmann::json OptionalTime(const std::optional<Clock::WallTime>& t) {
  return t ? nlohmann::json(FormatIso8601(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json FlowConsumer::HealthCheck() const {
  const ConsumerSnapshot s = Snapshot();
  nlohmann::json parts = nlohmann::json::array();
  int64_t lag_total = 0;
  for (const auto& p : s.partitions) {
    parts.push_back({{"partition", p.partition},
                     {"committed", p.committed >= 0 ? nlohmann::json(p.committed) : nlohmann::json(nullptr)},
                     {"lag", p.lag >= 0 ? nlohmann::json(p.lag) : nlohmann::json(nullptr)}});
    lag_total += std::max<int64_t>(0, p.lag);
  }
  nlohmann::json j = {{"status", HealthStatus(s.state)},
                      {"state", ToString(s.state)},
                      {"topic", s.topic},
                      {"group_id", s.group_id},
                      {"source", impl_->o.source},
                      {"bootstrap_servers", s.bootstrap_servers},
                      {"assigned_partitions", std::move(parts)},
                      {"lag_total", lag_total},
                      {"last_error", s.last_error ? nlohmann::json(*s.last_error) : nlohmann::json(nullptr)},
                      {"last_error_at", OptionalTime(s.last_error_at)},
                      {"last_message_at", OptionalTime(s.last_message_at)},
                      {"messages_per_second", s.messages_per_second},
                      {"messages_total", s.messages},
                      {"flows_stored", s.flows_stored},
                      {"duplicates", s.duplicates},
                      {"dead_lettered", s.dead_lettered},
                      {"refused", s.refused},
                      {"dead_letter_failures", s.dead_letter_failures},
                      {"batches_failed", s.batches_failed},
                      {"batches_in_flight", s.batches_in_flight},
                      {"dead_letter_topic", impl_->o.dlq_topic}};
  if (!s.detail.empty()) j["detail"] = s.detail;
  return j;
}

nlohmann::json ClusterHealth(const ConsumerSnapshot& s) {
  nlohmann::json j = {{"bootstrap_servers", s.bootstrap_servers},
                      {"broker_count", s.broker_count >= 0 ? nlohmann::json(s.broker_count) : nlohmann::json(nullptr)},
                      {"topics", s.cluster_topics},
                      {"metadata_at", OptionalTime(s.metadata_at)}};
  if (s.brokers_up == 0) {
    j["status"] = "error";
    j["error"] = fmt::format("no broker reachable at {}; the consumers reconnect with backoff", s.bootstrap_servers);
  } else if (s.broker_count < 0) {
    j["status"] = s.state == ConsumerState::kDisabled ? "disabled" : "degraded";
    j["detail"] = s.state == ConsumerState::kDisabled ? "the internal consumer is disabled; cluster not contacted"
                                                      : "connecting; no cluster metadata yet";
  } else {
    j["status"] = "ok";
  }
  return j;
}

}  // namespace threatd::kafka
