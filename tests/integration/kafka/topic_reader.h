// ReadTopic: every message of a test topic from the earliest offset (all
// partitions assigned directly, no consumer group), for tests that check what
// threatd published. Header-only; librdkafka's C API.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace threatd::testing {

struct TopicMessage {
  int32_t partition = -1;
  int64_t offset = -1;
  bool has_key = false;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Reads `topic` (partitions 0..partitions-1) from the beginning until `want`
// messages arrived or `timeout` passed; returns what arrived (the caller
// asserts on the count).
inline std::vector<TopicMessage> ReadTopic(const std::string& bootstrap, const std::string& topic, int partitions,
                                           size_t want,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<TopicMessage> out;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : std::map<std::string, std::string>{{"bootstrap.servers", bootstrap},
                                                                      {"group.id", "threatd-test-reader"},
                                                                      {"enable.auto.commit", "false"}}) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      ADD_FAILURE() << name << ": " << err;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    ADD_FAILURE() << "reader: " << err;
    return out;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      TopicMessage t;
      t.partition = m->partition;
      t.offset = m->offset;
      t.has_key = m->key != nullptr;
      if (m->key != nullptr) t.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) t.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          t.headers[name] = std::string(static_cast<const char*>(value), size);
      }
      out.push_back(std::move(t));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace threatd::testing
