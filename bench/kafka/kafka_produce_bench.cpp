// bench_kafka_produce: produces simulated flows to a Kafka topic for the
// ingestion benchmark (bench/kafka/run.sh, docs/benchmarks.md "Kafka
// ingestion").
//
//   bench_kafka_produce --bootstrap 127.0.0.1:9092 --topic network-traffic
//       [--partitions 6] --count 1000000 [--rate 0] [--profile ...] [--seed 7]
//       -> produces --count flows as fast as possible (or at --rate/s) and
//          prints one JSON line: {"mode":"produce", "delivered", "seconds", ...}
//   bench_kafka_produce ... --latency --ws 127.0.0.1:8080 --api-key tdk_...
//       --rate 20000 --duration 20
//       -> subscribes to /ws/realtime, produces at --rate for --duration s and
//          matches every `prediction` to its message; prints p50/p99/max of
//          produce -> WebSocket arrival: {"mode":"latency", "p50_ms", ...}
//   bench_kafka_produce --bootstrap x --parse-only --count 20000
//       -> no broker: times kafka::ParseFlowMessage (what the consumer thread
//          does per message) on --count generated payloads, one thread.
//
// Flows come from sim::FlowGenerator (what `threatd simulate` uses) and are
// serialized as the envelope consumers accept (kafka::FlowEnvelope, the same
// JSON the test stream publishes), keyed by src_ip, by an idempotent lz4
// producer. A prediction carries no field of the message except src_ip and
// dst_ip, so in latency mode each flow's dst_ip is replaced by 10.x.y.z
// encoding its sequence number (the features, src_ip and key are kept).
// Creating the topic (--partitions) uses the tests' admin helper.
//
// Errors: any setup failure is printed with what to do and exits 1; delivery
// failures are counted in the result (and exit 1).
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <fmt/format.h>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kafka/client.h"
#include "kafka/flow_message.h"
#include "kafka/flow_publisher.h"
#include "sim/flow_generator.h"
#include "sim/traffic_profile.h"
#include "support/kafka_test_broker.h"
#include "support/ws_client.h"

namespace {

using namespace threatd;
using SysClock = std::chrono::system_clock;

struct Args {
  std::string bootstrap;
  std::string topic = "network-traffic";
  int partitions = 0;  // > 0: create the topic first
  uint64_t count = 1'000'000;
  double rate = 0;  // flows/s; 0 = as fast as possible
  std::string profile = "models/traffic_profile.json.gz";
  uint64_t seed = 7;
  int linger_ms = 5;
  bool latency = false;
  std::string ws;  // host:port of threatd
  std::string api_key;
  double duration = 20;
  double drain_timeout = 15;
  size_t pool = 50'000;
  std::string timeline;  // latency mode: per-100 ms CSV of the worst latencies, by send time
  bool parse_only = false;  // latency mode: flows generated and serialized before the timed run
};

int Fail(const Status& s) {
  std::cerr << "bench_kafka_produce: " << s.ToString() << "\n";
  return 1;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(SysClock::now().time_since_epoch()).count();
}

// Sequence number <-> 10.x.y.z (seq + 1, so 10.0.0.0 is never used).
std::string EncodeSeq(uint64_t seq) {
  const uint64_t v = seq + 1;
  return fmt::format("10.{}.{}.{}", (v >> 16) & 255, (v >> 8) & 255, v & 255);
}
std::optional<uint64_t> DecodeSeq(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a != 10) return std::nullopt;
  const uint64_t v = (uint64_t{b} << 16) | (uint64_t{c} << 8) | d;
  if (v == 0) return std::nullopt;
  return v - 1;
}

// A librdkafka producer counting its delivery reports.
class Producer {
 public:
  static Result<std::unique_ptr<Producer>> Create(const Args& a) {
    kafka::ClusterSettings cluster;
    cluster.bootstrap_servers = a.bootstrap;
    auto conf = kafka::MakeConf(cluster, {{"enable.idempotence", "true"},
                                          {"compression.type", "lz4"},
                                          {"linger.ms", std::to_string(a.linger_ms)},
                                          {"queue.buffering.max.messages", "1000000"},
                                          {"queue.buffering.max.kbytes", "1048576"}});
    if (!conf.ok()) return conf.status();
    auto p = std::unique_ptr<Producer>(new Producer);
    rd_kafka_conf_set_opaque(conf->get(), p.get());
    rd_kafka_conf_set_dr_msg_cb(conf->get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
      auto* self = static_cast<Producer*>(opaque);
      if (m->err) {
        if (self->failed_.fetch_add(1) == 0) self->first_error_ = rd_kafka_err2str(m->err);
      } else {
        self->delivered_.fetch_add(1);
      }
    });
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
    if (rk == nullptr) return Status::InvalidArgument(std::string("cannot create a Kafka producer: ") + err);
    conf->release();  // owned by rk now
    p->rk_.reset(rk);
    p->topic_.reset(rd_kafka_topic_new(rk, a.topic.c_str(), nullptr));
    if (!p->topic_) return Status::InvalidArgument(fmt::format("bad topic '{}'", a.topic));
    return p;
  }

  // Queues one message, serving delivery reports while the queue is full.
  // RD_KAFKA_MSG_F_COPY: librdkafka copies key and value, so the const_cast
  // never leads to a write.
  Status Produce(const std::string& key, const std::string& value) {
    for (;;) {
      if (rd_kafka_produce(topic_.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                           value.size(), key.data(), key.size(), nullptr) == 0)
        return Status::Ok();
      const rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return Status::Unavailable(fmt::format("produce to '{}' failed: {}", rd_kafka_topic_name(topic_.get()),
                                               rd_kafka_err2str(e)));
      rd_kafka_poll(rk_.get(), 10);
    }
  }
  void Poll() { rd_kafka_poll(rk_.get(), 0); }
  Status Flush(std::chrono::milliseconds timeout) {
    const rd_kafka_resp_err_t e = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Status::Timeout(fmt::format("{} messages not acknowledged within {} ms", rd_kafka_outq_len(rk_.get()),
                                         timeout.count()));
    return Status::Ok();
  }
  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }
  const std::string& first_error() const { return first_error_; }

 private:
  struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  };
  Producer() = default;
  kafka::HandlePtr rk_;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic_;  // after rk_: destroyed first
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::string first_error_;  // written once, by the first failure (rdkafka's thread)
};

// Paces a loop at `rate` per second (0 = unpaced), sleeping in steps of at
// least 0.5 ms so the producer does not wake once per message.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), start_(std::chrono::steady_clock::now()) {}
  void Wait(uint64_t n, Producer& producer) {
    if (rate_ <= 0) return;
    const auto due = start_ + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(n) / rate_));
    auto now = std::chrono::steady_clock::now();
    if (now >= due) return;
    producer.Poll();
    std::this_thread::sleep_until(std::max(due, now + std::chrono::microseconds(500)));
  }
  std::chrono::steady_clock::time_point start() const { return start_; }

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

nlohmann::json Summary(const std::vector<double>& ms) {
  if (ms.empty()) return nullptr;
  return {{"p50_ms", Percentile(ms, 0.50)}, {"p90_ms", Percentile(ms, 0.90)}, {"p99_ms", Percentile(ms, 0.99)},
          {"max_ms", *std::max_element(ms.begin(), ms.end())}};
}

// Receives /ws/realtime predictions on its own thread and records, per
// sequence number, the arrival time and the prediction's created_at.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t capacity) : sent_(capacity), arrived_(capacity), created_(capacity) {}

  Status Connect(const std::string& host_port, const std::string& api_key) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) return Status::InvalidArgument("--ws must be host:port, e.g. 127.0.0.1:8080");
    const auto port = static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1)));
    THREATD_RETURN_IF_ERROR(ws_.Connect(host_port.substr(0, colon), port, "/ws/realtime?api_key=" + api_key));
    auto hello = ws_.Receive(std::chrono::seconds(5));
    if (!hello.ok()) return hello.status();
    if (hello->find("\"connected\"") == std::string::npos)
      return Status::Unavailable("expected the 'connected' message first, got: " + hello->substr(0, 200));
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  void MarkSent(uint64_t seq, int64_t us) { sent_[seq].store(us, std::memory_order_release); }
  uint64_t matched() const { return matched_.load(); }
  uint64_t predictions() const { return predictions_.load(); }

  // Calls fn(sent, arrived, created_at) in µs, in send order, for every
  // message sent and matched (created_at 0 when the prediction had none).
  template <typename Fn>
  void ForEachMatched(uint64_t sent, Fn&& fn) const {
    for (uint64_t i = 0; i < sent; ++i) {
      const int64_t s = sent_[i].load(), a = arrived_[i].load(), c = created_[i].load();
      if (s != 0 && a != 0) fn(s, a, c);
    }
  }

  // One CSV line per 100 ms of send time: how many were matched, and the
  // worst produce -> WebSocket, produce -> created_at and created_at ->
  // WebSocket among them, to line latency spikes up with what the server did.
  Status WriteTimeline(uint64_t sent, const std::string& path) const {
    struct Bucket {
      uint64_t n = 0;
      int64_t total = 0, to_store = 0, store_to_ws = 0;
    };
    std::map<int64_t, Bucket> buckets;
    int64_t first = 0;
    ForEachMatched(sent, [&](int64_t s, int64_t a, int64_t c) {
      if (first == 0) first = s;
      Bucket& b = buckets[(s - first) / 100'000];
      ++b.n;
      b.total = std::max(b.total, a - s);
      if (c != 0) {
        b.to_store = std::max(b.to_store, c - s);
        b.store_to_ws = std::max(b.store_to_ws, a - c);
      }
    });
    std::ofstream out(path);
    out << "t_s,matched,max_produce_to_ws_ms,max_produce_to_created_at_ms,max_created_at_to_ws_ms\n";
    for (const auto& [k, b] : buckets)
      out << fmt::format("{:.1f},{},{:.1f},{:.1f},{:.1f}\n", static_cast<double>(k) / 10.0, b.n, b.total / 1000.0,
                         b.to_store / 1000.0, b.store_to_ws / 1000.0);
    return out ? Status::Ok() : Status::Internal("cannot write " + path);
  }

  nlohmann::json Summarize(uint64_t sent) const {
    std::vector<double> total, to_store, store_to_ws;
    ForEachMatched(sent, [&](int64_t s, int64_t a, int64_t c) {
      total.push_back(static_cast<double>(a - s) / 1000.0);
      if (c != 0) {
        to_store.push_back(static_cast<double>(c - s) / 1000.0);
        store_to_ws.push_back(static_cast<double>(a - c) / 1000.0);
      }
    });
    return {{"received", total.size()}, {"missing", sent - total.size()}, {"produce_to_ws", Summary(total)},
            {"produce_to_created_at", Summary(to_store)}, {"created_at_to_ws", Summary(store_to_ws)}};
  }

 private:
  void Run() {
    while (!stop_.load()) {
      auto m = ws_.Receive(std::chrono::milliseconds(100));
      if (!m.ok()) {
        if (m.status().code() == ErrorCode::kTimeout) continue;
        std::cerr << "bench_kafka_produce: WebSocket: " << m.status().ToString() << "\n";
        return;
      }
      const int64_t now = NowUs();
      std::string dst, timestamp;
      if (!Fields(*m, &dst, &timestamp)) continue;
      predictions_.fetch_add(1);
      const auto seq = DecodeSeq(dst);
      if (!seq || *seq >= sent_.size() || sent_[*seq].load(std::memory_order_acquire) == 0) continue;
      if (arrived_[*seq].exchange(now) != 0) continue;  // a repeat
      Clock::WallTime created;
      if (!timestamp.empty() && ParseIso8601(timestamp, &created))
        created_[*seq].store(std::chrono::duration_cast<std::chrono::microseconds>(created.time_since_epoch()).count());
      matched_.fetch_add(1);
    }
  }

  // A prediction's dst_ip and created_at. The server writes predictions in a
  // fixed layout (realtime/messages.cpp), so a scan finds both without a JSON
  // parse: at tens of thousands of messages/s a DOM parse would take a good
  // share of the cores this client shares with the server. Anything else is
  // parsed properly.
  static bool Fields(const std::string& m, std::string* dst, std::string* timestamp) {
    auto value_of = [&](std::string_view key, size_t from, std::string* out) {
      const size_t at = m.find(key, from);
      if (at == std::string::npos) return std::string::npos;
      const size_t begin = at + key.size(), end = m.find('"', begin);
      if (end == std::string::npos) return std::string::npos;
      out->assign(m, begin, end - begin);
      return end;
    };
    if (m.starts_with(R"({"type":"prediction",)")) {
      const size_t data = m.find(R"("data":{)");
      if (data != std::string::npos && value_of(R"("timestamp":")", data, timestamp) != std::string::npos &&
          value_of(R"("dst_ip":")", data, dst) != std::string::npos)
        return true;
    }
    auto j = nlohmann::json::parse(m, nullptr, false);
    if (j.is_discarded() || j.value("type", "") != "prediction") return false;
    const auto& data = j["data"];
    if (!data.contains("dst_ip") || !data["dst_ip"].is_string()) return false;
    *dst = data["dst_ip"].get<std::string>();
    *timestamp = data.contains("timestamp") && data["timestamp"].is_string() ? data["timestamp"].get<std::string>() : "";
    return true;
  }

  testing::WsClient ws_;
  std::vector<std::atomic<int64_t>> sent_, arrived_, created_;  // µs since the epoch; 0 = not yet
  std::atomic<uint64_t> matched_{0}, predictions_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A serialized flow with a marker where its dst_ip goes (in "dst_ip" and in
// "flow_id"): the pieces between the markers.
constexpr std::string_view kDstMarker = "@@DST@@";
struct Template {
  std::vector<std::string> pieces;
  std::string key;
  std::string With(const std::string& dst) const {
    std::string out = pieces[0];
    for (size_t i = 1; i < pieces.size(); ++i) out.append(dst).append(pieces[i]);
    return out;
  }
};

Template MakeTemplate(flow::FlowRecord flow) {
  flow.ids.dst_ip = std::string(kDstMarker);
  flow.ids.flow_id = fmt::format("{}-{}-{}-{}-{}", flow.ids.src_ip, flow.ids.dst_ip, flow.ids.src_port,
                                 flow.ids.dst_port, flow.ids.protocol);
  const std::string text = kafka::FlowEnvelope(flow).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Template t;
  t.key = flow.ids.src_ip;
  size_t from = 0;
  for (size_t at = text.find(kDstMarker); at != std::string::npos; at = text.find(kDstMarker, from)) {
    t.pieces.push_back(text.substr(from, at - from));
    from = at + kDstMarker.size();
  }
  t.pieces.push_back(text.substr(from));
  return t;
}

// The consumer thread's per-message parse cost, without Kafka.
int ParseOnly(const Args& a, sim::FlowGenerator& generator) {
  std::vector<std::string> payloads;
  payloads.reserve(a.count);
  size_t bytes = 0;
  for (uint64_t i = 0; i < a.count; ++i) {
    payloads.push_back(
        kafka::FlowEnvelope(generator.Next()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    bytes += payloads.back().size();
  }
  size_t ok = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& payload : payloads) ok += kafka::ParseFlowMessage(payload).ok() ? 1 : 0;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << nlohmann::json{{"mode", "parse-only"}, {"messages", payloads.size()}, {"parsed", ok},
                              {"mean_bytes", bytes / std::max<size_t>(1, payloads.size())}, {"seconds", s},
                              {"us_per_message", 1e6 * s / static_cast<double>(payloads.size())},
                              {"per_second", static_cast<double>(payloads.size()) / s}}
                   .dump()
            << std::endl;
  return ok == payloads.size() ? 0 : 1;
}

int Run(const Args& a) {
  if (a.partitions > 0 && !a.parse_only) {
    auto admin = testing::KafkaTestBroker::Connect(a.bootstrap);
    if (!admin.ok()) return Fail(admin.status());
    Status s = admin->CreateTopic(a.topic, a.partitions);
    if (!s.ok() && s.code() != ErrorCode::kConflict) return Fail(s);
  }
  auto profile = sim::ReadTrafficProfile(a.profile);
  if (!profile.ok()) return Fail(profile.status());
  sim::GeneratorOptions go;
  go.seed = a.seed;
  if (a.rate > 0) go.rate_per_second = a.rate;
  auto generator = sim::FlowGenerator::Create(std::make_shared<const sim::TrafficProfile>(std::move(*profile)), go);
  if (!generator.ok()) return Fail(generator.status());
  if (a.parse_only) return ParseOnly(a, *generator);
  auto producer = Producer::Create(a);
  if (!producer.ok()) return Fail(producer.status());
  Producer& p = **producer;

  const uint64_t count = a.latency ? static_cast<uint64_t>(a.rate * a.duration) : a.count;
  std::unique_ptr<LatencyRecorder> recorder;
  if (a.latency) {
    if (a.rate <= 0 || a.ws.empty() || a.api_key.empty())
      return Fail(Status::InvalidArgument("--latency needs --rate, --ws host:port and --api-key"));
    if (count >= (1u << 24)) return Fail(Status::InvalidArgument("--rate x --duration must stay below 16.7M flows"));
    recorder = std::make_unique<LatencyRecorder>(count);
    if (Status s = recorder->Connect(a.ws, a.api_key); !s.ok()) return Fail(s);
  }

  std::vector<Template> pool;
  if (recorder) {
    pool.reserve(std::min<uint64_t>(a.pool, count));
    for (uint64_t i = 0; i < std::min<uint64_t>(a.pool, count); ++i) pool.push_back(MakeTemplate(generator->Next()));
  }

  uint64_t bytes = 0;
  Pacer pacer(a.rate);
  for (uint64_t seq = 0; seq < count; ++seq) {
    pacer.Wait(seq, p);
    std::string key, value;
    if (recorder) {
      const Template& t = pool[seq % pool.size()];
      key = t.key;
      value = t.With(EncodeSeq(seq));
      recorder->MarkSent(seq, NowUs());
    } else {
      flow::FlowRecord flow = generator->Next();
      value = kafka::FlowEnvelope(flow).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      key = std::move(flow.ids.src_ip);
    }
    bytes += value.size();
    if (Status s = p.Produce(key, value); !s.ok()) return Fail(s);
    if ((seq & 1023) == 0) p.Poll();
  }
  const double produce_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pacer.start()).count();
  Status flushed = p.Flush(std::chrono::seconds(60));
  const double acked_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - pacer.start()).count();

  nlohmann::json out{{"mode", a.latency ? "latency" : "produce"},
                     {"topic", a.topic},
                     {"messages", count},
                     {"delivered", p.delivered()},
                     {"failed", p.failed()},
                     {"bytes", bytes},
                     {"mean_bytes", count ? bytes / count : 0},
                     {"produce_seconds", produce_s},
                     {"acked_seconds", acked_s},
                     {"per_second", acked_s > 0 ? static_cast<double>(p.delivered()) / acked_s : 0.0}};
  if (p.failed() > 0) out["first_error"] = p.first_error();
  if (recorder) {
    // Wait for the stragglers: until all arrived or no progress for drain_timeout.
    auto last_progress = std::chrono::steady_clock::now();
    uint64_t last = recorder->matched();
    while (recorder->matched() < p.delivered() &&
           std::chrono::steady_clock::now() - last_progress < std::chrono::duration<double>(a.drain_timeout)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (recorder->matched() != last) {
        last = recorder->matched();
        last_progress = std::chrono::steady_clock::now();
      }
    }
    recorder->Stop();
    out["rate"] = a.rate;
    out["predictions_seen"] = recorder->predictions();
    out.update(recorder->Summarize(count));
    if (!a.timeline.empty()) {
      if (Status t = recorder->WriteTimeline(count, a.timeline); !t.ok()) return Fail(t);
    }
  }
  std::cout << out.dump() << std::endl;
  if (!flushed.ok()) return Fail(flushed);
  return p.failed() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"Produce simulated flows to Kafka for the ingestion benchmark (bench/kafka/run.sh)"};
  app.add_option("--bootstrap", a.bootstrap, "Kafka bootstrap servers, host:port")->required();
  app.add_option("--topic", a.topic, "Topic")->capture_default_str();
  app.add_option("--partitions", a.partitions, "Create the topic with this many partitions first (0: do not)");
  app.add_option("--count", a.count, "Flows to produce (not with --latency)")->capture_default_str();
  app.add_option("--rate", a.rate, "Flows per second (0: as fast as possible)")->capture_default_str();
  app.add_option("--profile", a.profile, "Traffic profile for the generator")->capture_default_str();
  app.add_option("--seed", a.seed, "Generator seed")->capture_default_str();
  app.add_option("--linger-ms", a.linger_ms, "Producer linger.ms")->capture_default_str();
  app.add_flag("--latency", a.latency, "Measure produce -> /ws/realtime latency at --rate for --duration s");
  app.add_option("--ws", a.ws, "threatd host:port (latency mode)");
  app.add_option("--api-key", a.api_key, "API key for /ws/realtime (latency mode)");
  app.add_option("--duration", a.duration, "Seconds to produce in latency mode")->capture_default_str();
  app.add_flag("--parse-only", a.parse_only, "No broker: time the consumer's message parsing on --count payloads");
  app.add_option("--timeline", a.timeline, "Latency mode: write the worst latencies per 100 ms of send time to this CSV");
  app.add_option("--pool", a.pool, "Latency mode: distinct flows serialized beforehand and cycled")
      ->capture_default_str();
  app.add_option("--drain-timeout", a.drain_timeout, "Seconds without a new prediction before giving up")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return Run(a);
}
