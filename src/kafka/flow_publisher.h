// FlowPublisher: the test stream's sink when Kafka is configured - flows go
// to the internal topic (kafka.topic_realtime) instead of straight into the
// pipeline, so the test stream exercises the same path as real producers
// (consumer -> pipeline -> storage -> WebSocket/predictions topic).
//
//   key:   the flow's source address (no key when it has none)
//   value: the flow envelope of docs/kafka.md, ingest::FlowJson:
//          {"features": {<canonical feature name>: number, ...},
//           "src_ip", "dst_ip", "src_port", "dst_port", "protocol",
//           "timestamp" (ISO-8601 UTC or null), "flow_id", "label"}
//
// Publish(batch) queues every flow and never blocks. A batch with a `done`
// callback (send-single) gets it once every flow was delivered to the broker
// (or failed): BatchResult.status is Ok or the first delivery error;
// stored/attacks stay 0, since scoring happens later, asynchronously, in the
// consumer's pipeline.
//
// Ownership: references the Publisher, which must outlive it.
// Thread-safety: Publish may be called from any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kafka/publisher.h"
#include "pipeline/pipeline.h"

namespace threatd::kafka {

// The JSON envelope of one flow on the internal topic.
nlohmann::json FlowEnvelope(const flow::FlowRecord& flow);

class FlowPublisher {
 public:
  FlowPublisher(Publisher& publisher, std::string topic);

  // Ok when every flow was queued; Unavailable (retryable) when the
  // producer's queue refused some (they are dropped; `done`, if any, then
  // reports the error once the queued ones are settled).
  Status Publish(pipeline::FlowBatch batch);

  const std::string& topic() const { return topic_; }

 private:
  Publisher& publisher_;
  const std::string topic_;
};

}  // namespace threatd::kafka
