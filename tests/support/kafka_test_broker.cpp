#include "support/kafka_test_broker.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "support/eventually.h"

namespace threatd::testing {

namespace {

using Clock = std::chrono::steady_clock;

int Ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

std::string ReadFirstLine(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A configured rd_kafka_t of `type`, or the configuration error.
Result<RdKafkaHandle> NewHandle(rd_kafka_type_t type, const std::map<std::string, std::string>& config,
                                void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                                void* opaque = nullptr) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : config) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("librdkafka property " + name + "=" + value + ": " + err);
    }
  }
  if (on_delivery != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  if (opaque != nullptr) rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // owns conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("creating a librdkafka client: ") + err);
  }
  return RdKafkaHandle(rk);
}

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// Runs one admin request (`issue` sends it to `queue`) and waits for its result event.
template <typename Issue>
Result<EventPtr> AdminCall(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout, Issue issue) {
  char err[512];
  std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter> options(rd_kafka_AdminOptions_new(rk, op));
  if (rd_kafka_AdminOptions_set_operation_timeout(options.get(), Ms(timeout), err, sizeof err) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_request_timeout(options.get(), Ms(timeout), err, sizeof err) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal(std::string("admin options: ") + err);
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk));
  issue(options.get(), queue.get());
  // The request times out on its own; the extra second only covers delivery of that result.
  EventPtr event(rd_kafka_queue_poll(queue.get(), Ms(timeout) + 1000));
  if (event == nullptr) {
    return Status::Timeout("no answer from the Kafka broker within " + std::to_string(timeout.count()) + " ms",
                           "check that the test broker runs (scripts/kafka-test-server.sh, its broker.log)");
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(std::string("Kafka admin request failed: ") + rd_kafka_event_error_string(event.get()));
  }
  return event;
}

Status TopicResult(const rd_kafka_topic_result_t* result, const std::string& action) {
  const rd_kafka_resp_err_t code = rd_kafka_topic_result_error(result);
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  const char* detail = rd_kafka_topic_result_error_string(result);
  std::string message = action + " topic " + rd_kafka_topic_result_name(result) + ": " +
                        (detail != nullptr ? detail : rd_kafka_err2str(code));
  if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return Status::Conflict(message, "use UniqueKafkaName()");
  if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return Status::NotFound(message);
  return Status::Unavailable(message);
}

}  // namespace

void RdKafkaDeleter::operator()(rd_kafka_s* rk) const { rd_kafka_destroy(rk); }

std::string KafkaBootstrapFile() { return THREATD_TEST_KAFKA_BOOTSTRAP_FILE; }

Result<std::string> ReadKafkaBootstrap(const std::string& file) {
  std::string bootstrap = ReadFirstLine(file);
  if (!bootstrap.empty()) return bootstrap;
  const auto dir = std::filesystem::path(file).parent_path();
  std::string script_error = ReadFirstLine(dir / "error");
  if (!script_error.empty()) {
    return Status::Unavailable("the test Kafka broker could not be started: " + script_error,
                               "see " + (dir / "broker.log").string() + " and the kafka_server_start test output");
  }
  return Status::Unavailable("no test Kafka broker: " + file + " is missing",
                             "run through ctest (fixture 'kafka', e.g. ctest -R '[Kk]afka') or start one with "
                             "scripts/kafka-test-server.sh start " + dir.string());
}

std::string UniqueKafkaName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(salt % 100000);
}

// ---- KafkaTestBroker -------------------------------------------------------

Result<KafkaTestBroker> KafkaTestBroker::Connect(std::string bootstrap) {
  auto rk = NewHandle(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"client.id", "threatd-test-admin"}});
  if (!rk.ok()) return rk.status();
  return KafkaTestBroker(std::move(bootstrap), std::move(rk).value());
}

Result<KafkaTestBroker> KafkaTestBroker::FromFixture() {
  auto bootstrap = ReadKafkaBootstrap(KafkaBootstrapFile());
  if (!bootstrap.ok()) return bootstrap.status();
  return Connect(std::move(bootstrap).value());
}

Status KafkaTestBroker::CreateTopic(const std::string& name, int partitions, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char err[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), partitions, 1, err, sizeof err);
  if (topic == nullptr) return Status::InvalidArgument("topic " + name + ": " + err);
  auto event = AdminCall(admin_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout,
                         [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                           rd_kafka_CreateTopics(admin_.get(), &topic, 1, options, queue);
                         });
  rd_kafka_NewTopic_destroy(topic);
  if (!event.ok()) return event.status().WithContext("creating topic " + name);
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event->get()), &count);
  if (count != 1) return Status::Internal("CreateTopics answered " + std::to_string(count) + " results for one topic");
  THREATD_RETURN_IF_ERROR(TopicResult(results[0], "creating"));

  // The controller has committed the topic; wait until the broker serves it.
  rd_kafka_topic_t* handle = rd_kafka_topic_new(admin_.get(), name.c_str(), nullptr);
  const bool served = Eventually(
      [&] {
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(admin_.get(), 0, handle, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
        bool ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                     md->topics[0].partition_cnt == partitions;
        for (int i = 0; ready && i < md->topics[0].partition_cnt; ++i) {
          ready = md->topics[0].partitions[i].leader >= 0 &&
                  md->topics[0].partitions[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        rd_kafka_metadata_destroy(md);
        return ready;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  rd_kafka_topic_destroy(handle);
  if (served) return Status::Ok();
  return Status::Timeout("topic " + name + " created but not served with leaders for all " +
                         std::to_string(partitions) + " partitions in time",
                         "see the test broker's broker.log");
}

Status KafkaTestBroker::DeleteTopic(const std::string& name, std::chrono::milliseconds timeout) {
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  auto event = AdminCall(admin_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout,
                         [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                           rd_kafka_DeleteTopics(admin_.get(), &topic, 1, options, queue);
                         });
  rd_kafka_DeleteTopic_destroy(topic);
  if (!event.ok()) return event.status().WithContext("deleting topic " + name);
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event->get()), &count);
  if (count != 1) return Status::Internal("DeleteTopics answered " + std::to_string(count) + " results for one topic");
  return TopicResult(results[0], "deleting");
}

Result<std::vector<int64_t>> KafkaTestBroker::HighWatermarks(const std::string& topic, int partitions,
                                                             std::chrono::milliseconds timeout) {
  std::vector<int64_t> high(static_cast<size_t>(partitions));
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    const rd_kafka_resp_err_t code =
        rd_kafka_query_watermark_offsets(admin_.get(), topic.c_str(), p, &low, &high[static_cast<size_t>(p)], Ms(timeout));
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable("watermarks of " + topic + "[" + std::to_string(p) + "]: " + rd_kafka_err2str(code));
    }
  }
  return high;
}

// ---- ScopedKafkaTopic ------------------------------------------------------

Result<ScopedKafkaTopic> ScopedKafkaTopic::Create(KafkaTestBroker& broker, std::string name, int partitions) {
  THREATD_RETURN_IF_ERROR(broker.CreateTopic(name, partitions));
  return ScopedKafkaTopic(&broker, std::move(name), partitions);
}

ScopedKafkaTopic::~ScopedKafkaTopic() {
  if (broker_ != nullptr) (void)broker_->DeleteTopic(name_);  // best effort: the broker is thrown away anyway
}

// ---- KafkaTestProducer -----------------------------------------------------

struct KafkaTestProducer::State {
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::mutex mu;
  std::string first_error;  // guarded by mu

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* state = static_cast<State*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      state->delivered.fetch_add(1);
      return;
    }
    state->failed.fetch_add(1);
    std::lock_guard lock(state->mu);
    if (state->first_error.empty()) state->first_error = rd_kafka_err2str(message->err);
  }
};

Result<KafkaTestProducer> KafkaTestProducer::Create(const std::string& bootstrap,
                                                    const std::map<std::string, std::string>& config) {
  std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap},
                                            {"client.id", "threatd-test-producer"},
                                            {"acks", "all"},
                                            // Retries (e.g. of the first request, while a new topic's
                                            // leaders settle) must not reorder a partition.
                                            {"enable.idempotence", "true"},
                                            {"linger.ms", "5"},
                                            {"message.timeout.ms", "30000"}};
  for (const auto& [name, value] : config) all[name] = value;
  auto state = std::make_unique<State>();
  auto rk = NewHandle(RD_KAFKA_PRODUCER, all, &State::OnDelivery, state.get());
  if (!rk.ok()) return rk.status();
  return KafkaTestProducer(std::move(state), std::move(rk).value());
}

KafkaTestProducer::KafkaTestProducer(std::unique_ptr<State> state, RdKafkaHandle rk)
    : state_(std::move(state)), rk_(std::move(rk)) {}
KafkaTestProducer::KafkaTestProducer(KafkaTestProducer&&) noexcept = default;
KafkaTestProducer& KafkaTestProducer::operator=(KafkaTestProducer&& other) noexcept {
  rk_.reset();  // first: its callbacks point into state_
  state_ = std::move(other.state_);
  rk_ = std::move(other.rk_);
  return *this;
}
KafkaTestProducer::~KafkaTestProducer() = default;

Status KafkaTestProducer::Produce(const std::string& topic, const KafkaTestMessage& message) {
  for (;;) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(message.headers.size());
    for (const auto& [name, value] : message.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    // rd_kafka_produceva, not the RD_KAFKA_V_* macros (their C casts fail -Wold-style-cast).
    rd_kafka_vu_t vus[6] = {};
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = topic.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vus[1].u.i32 = message.partition;
    vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[2].u.i = RD_KAFKA_MSG_F_COPY;
    vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[3].u.mem = {const_cast<char*>(message.value.data()), message.value.size()};
    vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[4].u.headers = headers;
    size_t count = 5;
    if (!message.key.empty()) {
      vus[5].vtype = RD_KAFKA_VTYPE_KEY;
      vus[5].u.mem = {const_cast<char*>(message.key.data()), message.key.size()};
      count = 6;
    }
    rd_kafka_error_t* error = rd_kafka_produceva(rk_.get(), vus, count);
    if (error == nullptr) return Status::Ok();  // headers now owned by the message
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    rd_kafka_headers_destroy(headers);
    if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::Unavailable("producing to " + topic + ": " + rd_kafka_err2str(code));
    }
    rd_kafka_poll(rk_.get(), 100);  // serves delivery reports, which frees queue room
  }
}

Status KafkaTestProducer::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t code = rd_kafka_flush(rk_.get(), Ms(timeout));
  if (code == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::Timeout(std::to_string(rd_kafka_outq_len(rk_.get())) + " messages not acknowledged within " +
                           std::to_string(timeout.count()) + " ms", "see the test broker's broker.log");
  }
  if (state_->failed.load() > 0) {
    std::lock_guard lock(state_->mu);
    return Status::Unavailable(std::to_string(state_->failed.load()) + " messages failed; first: " + state_->first_error);
  }
  return Status::Ok();
}

int64_t KafkaTestProducer::delivered() const { return state_->delivered.load(); }
int64_t KafkaTestProducer::failed() const { return state_->failed.load(); }

}  // namespace threatd::testing
