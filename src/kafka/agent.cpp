#include "kafka/agent.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

#include "common/thread_name.h"

namespace threatd::kafka {

struct Agent::Consumer {
  HandlePtr rk;
  DecisionFollower* follower = nullptr;
  std::atomic<bool> fatal{false};
  mutable std::mutex mu;
  std::set<int32_t> assigned;  // guarded by mu
  std::set<int32_t> at_end;    // guarded by mu: assigned partitions whose end the replay reached
  std::string fatal_reason;    // guarded by mu
  std::string last_error;      // guarded by mu

  bool ReplayDone() const {
    std::lock_guard lock(mu);
    return !assigned.empty() && at_end.size() >= assigned.size();
  }
};

namespace {

void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* c = static_cast<Agent::Consumer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Always from the beginning: the agent rebuilds its state from the topic.
    for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    c->follower->Rewind();
    {
      std::lock_guard lock(c->mu);
      c->assigned.clear();
      c->at_end.clear();
      for (int i = 0; i < parts->cnt; ++i) c->assigned.insert(parts->elems[i].partition);
    }
    spdlog::info("agent: assigned {} partition(s); replaying the decisions from the earliest offset", parts->cnt);
    if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts); e != RD_KAFKA_RESP_ERR_NO_ERROR)
      spdlog::error("agent: assigning partitions: {}", rd_kafka_err2str(e));
  } else {
    std::lock_guard lock(c->mu);
    c->assigned.clear();
    c->at_end.clear();
    rd_kafka_assign(rk, nullptr);
  }
}

void ErrorReport(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* c = static_cast<Agent::Consumer*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  std::lock_guard lock(c->mu);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> why{};
    const auto orig = rd_kafka_fatal_error(rk, why.data(), why.size());
    c->fatal_reason = fmt::format("{}: {}", rd_kafka_err2name(orig), why.data());
    c->fatal = true;
    return;
  }
  c->last_error = fmt::format("{}: {}", rd_kafka_err2name(code), reason);
  spdlog::warn("agent: Kafka: {}", c->last_error);
}

}  // namespace

std::string DefaultAgentGroupId() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') return "threatd-agent";
  return std::string("threatd-agent-") + host.data();
}

Agent::Agent(AgentOptions options, std::unique_ptr<healing::EnforcementBackend> backend, Clock& clock,
             metrics::Registry& registry)
    : options_(std::move(options)), clock_(clock), follower_(std::move(backend), clock, registry) {
  if (options_.group_id.empty()) options_.group_id = DefaultAgentGroupId();
}

Agent::~Agent() { Stop(false); }

Status Agent::Start() {
  if (started_) return Status::Ok();
  if (options_.topic.empty())
    return Status::InvalidArgument("kafka.topic_actions is empty: the agent has no decisions topic to follow",
                                   "set kafka.topic_actions (THREATD_KAFKA_TOPIC_ACTIONS), e.g. self-healing-actions");
  if (Status s = follower_.backend().Start(); !s.ok())
    return s.WithContext(fmt::format("starting the {} enforcement backend", follower_.backend().Name()));

  Properties props = {
      {"client.id", "threatd-agent"},
      {"group.id", options_.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "true"},
  };
  props.insert(props.end(), options_.extra.begin(), options_.extra.end());
  auto conf = MakeConf(options_.cluster, props);
  if (!conf.ok()) return conf.status();
  auto consumer = std::make_unique<Consumer>();
  consumer->follower = &follower_;
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), Rebalance);
  rd_kafka_conf_set_error_cb(conf->get(), ErrorReport);
  std::array<char, 512> err{};
  // rd_kafka_new takes ownership of the conf only when it succeeds.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err.data(), err.size());
  if (rk == nullptr) return Status::InvalidArgument(fmt::format("creating the agent's Kafka consumer: {}", err.data()));
  (void)conf->release();
  consumer->rk.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t sub = rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (sub != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Status::InvalidArgument(fmt::format("subscribing to '{}': {}", options_.topic, rd_kafka_err2str(sub)));
  consumer_ = std::move(consumer);
  started_ = true;
  spdlog::info("agent: following '{}' on {} as group '{}', enforcing with the {} backend", options_.topic,
               FirstBroker(options_.cluster.bootstrap_servers), options_.group_id, follower_.backend().Name());
  thread_ = std::thread([this] {
    NameThisThread("agent");
    Loop();
  });
  return Status::Ok();
}

void Agent::Loop() {
  rd_kafka_t* rk = consumer_->rk.get();
  auto next_tick = clock_.Monotonic();
  auto next_catch_up_try = clock_.Monotonic();
  uint64_t errors = 0;
  while (!stop_) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        follower_.Handle(std::string_view(static_cast<const char*>(m->payload), m->len));
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::lock_guard lock(consumer_->mu);
        if (consumer_->assigned.count(m->partition)) consumer_->at_end.insert(m->partition);
      } else {
        const std::string why = fmt::format("{}: {}", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
        if (errors++ % 100 == 0) spdlog::warn("agent: consuming '{}': {}", options_.topic, why);
        std::lock_guard lock(mu_);
        last_error_ = why;
      }
      rd_kafka_message_destroy(m);
    }
    if (consumer_->fatal) {
      std::lock_guard lock(consumer_->mu);
      std::lock_guard lock2(mu_);
      fatal_ = Status::Unavailable("the agent's Kafka consumer failed fatally: " + consumer_->fatal_reason,
                                   "restart the agent; check the broker and the group id (kafka.agent_group_id)");
      spdlog::error("agent: {}", fatal_->message());
      break;
    }
    const auto now = clock_.Monotonic();
    if (!follower_.caught_up() && now >= next_catch_up_try && consumer_->ReplayDone()) {
      // A failed reconcile is retried every second.
      if (!follower_.CatchUp().ok()) next_catch_up_try = now + std::chrono::seconds(1);
    }
    if (now >= next_tick) {
      follower_.Tick();
      next_tick = now + options_.tick;
    }
  }
}

void Agent::Stop(bool cleanup) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (rd_kafka_resp_err_t e = rd_kafka_consumer_close(consumer_->rk.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    spdlog::warn("agent: closing the consumer: {}", rd_kafka_err2str(e));
  if (Status s = follower_.backend().Shutdown(cleanup); !s.ok())
    spdlog::error("agent: shutting the {} backend down: {}", follower_.backend().Name(), s.ToString());
  spdlog::info("agent: stopped ({} decision(s) in force{})", follower_.Stats().active,
               cleanup ? ", removed from the backend" : " stay enforced by the backend until they expire");
}

std::optional<Status> Agent::Fatal() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

nlohmann::json Agent::HealthCheck() const {
  nlohmann::json follower = follower_.Health();
  nlohmann::json j = {{"topic", options_.topic}, {"group_id", options_.group_id}};
  std::string status = follower["status"];
  {
    std::lock_guard lock(mu_);
    if (fatal_) status = "error";
    j["last_error"] = fatal_ ? nlohmann::json(fatal_->message())
                             : last_error_ ? nlohmann::json(*last_error_) : nlohmann::json(nullptr);
  }
  if (consumer_) {
    std::lock_guard lock(consumer_->mu);
    j["assigned_partitions"] = consumer_->assigned;
    if (j["last_error"].is_null() && !consumer_->last_error.empty()) j["last_error"] = consumer_->last_error;
  } else {
    j["assigned_partitions"] = nlohmann::json::array();
  }
  j["status"] = status;
  j["follower"] = std::move(follower);
  return j;
}

}  // namespace threatd::kafka
