#include "kafka/outputs.h"

namespace threatd::kafka {

Result<std::unique_ptr<KafkaOutputs>> KafkaOutputs::Create(const config::KafkaSection& kafka, Clock& clock,
                                                           metrics::Registry& registry) {
  PublisherOptions po;
  po.name = "internal";
  po.queue_messages = kafka.producer_queue;
  po.linger = kafka.producer_linger;
  auto publisher = Publisher::Create(InternalCluster(kafka), std::move(po), clock, registry);
  if (!publisher.ok()) return publisher.status();
  std::unique_ptr<KafkaOutputs> out(new KafkaOutputs());
  out->publisher_ = std::move(publisher).value();
  if (!kafka.topic_predictions.empty())
    out->predictions_ = std::make_unique<PredictionPublisher>(*out->publisher_, kafka.topic_predictions);
  if (!kafka.topic_actions.empty())
    out->decisions_ = std::make_unique<DecisionPublisher>(*out->publisher_, kafka.topic_actions);
  if (!kafka.topic_realtime.empty())
    out->flows_ = std::make_unique<FlowPublisher>(*out->publisher_, kafka.topic_realtime);
  return out;
}

void KafkaOutputs::Start() { publisher_->Start(); }

void KafkaOutputs::Stop(std::chrono::milliseconds flush_timeout) { publisher_->Stop(flush_timeout); }

void KafkaOutputs::PublishDecision(std::string_view type, const nlohmann::json& data) {
  if (decisions_) decisions_->Publish(type, data);
}

KafkaOutputs::FlowSink KafkaOutputs::Flows() {
  if (!flows_) return nullptr;
  return [flows = flows_.get()](pipeline::FlowBatch batch) { return flows->Publish(std::move(batch)); };
}

nlohmann::json KafkaOutputs::HealthCheck() const {
  nlohmann::json producer = publisher_->HealthCheck();
  nlohmann::json j = {{"status", producer["status"]}, {"producer", std::move(producer)}};
  j["predictions"] = predictions_ ? predictions_->HealthCheck() : nlohmann::json(nullptr);
  j["actions"] = decisions_ ? decisions_->HealthCheck() : nlohmann::json(nullptr);
  j["test_stream_topic"] = flows_ ? nlohmann::json(flows_->topic()) : nlohmann::json(nullptr);
  return j;
}

}  // namespace threatd::kafka
