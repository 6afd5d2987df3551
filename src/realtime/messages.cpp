#include "realtime/messages.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace threatd::realtime {
namespace {

using nlohmann::json;

// A JSON writer for the one message sent per flow (predictions go to every
// WebSocket client and to Kafka): written straight into text, not through a
// json tree, which cost ~10 us per flow.
class Writer {
 public:
  void Raw(std::string_view s) { out_.append(s.data(), s.data() + s.size()); }
  void Key(std::string_view k) {
    Comma();
    out_.push_back('"');
    Raw(k);
    Raw("\":");
    first_ = true;  // the value follows without a comma
  }
  void Open() {
    Comma();
    out_.push_back('{');
    first_ = true;
  }
  void Close() {
    out_.push_back('}');
    first_ = false;
  }
  void Null() { Value("null"); }
  void Int(int64_t v) {
    Comma();
    fmt::format_to(std::back_inserter(out_), FMT_COMPILE("{}"), v);
  }
  void Bool(bool v) { Value(v ? "true" : "false"); }
  // Non-finite numbers are not JSON: null, as nlohmann writes them.
  void Double(double v) {
    if (!std::isfinite(v)) return Null();
    Comma();
    fmt::format_to(std::back_inserter(out_), FMT_COMPILE("{}"), v);
  }
  void String(std::string_view s) {
    Comma();
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      out_.push_back('"');
      Raw(s);
      out_.push_back('"');
    } else {  // escapes and UTF-8 checks (invalid bytes become U+FFFD)
      Raw(json(s).dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  void StringOrNull(std::string_view s) { s.empty() ? Null() : String(s); }
  std::string Take() { return fmt::to_string(out_); }

 private:
  void Comma() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void Value(std::string_view v) {
    Comma();
    Raw(v);
  }
  fmt::memory_buffer out_;
  bool first_ = true;
};

}  // namespace

std::string PredictionData(const storage::ScoredFlowBatch& batch, size_t index, const storage::StoredFlowIds& ids) {
  const storage::NewScoredFlow& f = batch.flows[index];
  Writer w;
  w.Open();
  w.Key("timestamp");
  w.String(FormatIso8601(f.created_at));
  w.Key("traffic_data_id");
  w.Int(ids.traffic_data_id);
  w.Key("source");
  w.String(batch.source);
  w.Key("batch_id");
  w.StringOrNull(batch.batch_id.value_or(""));
  w.Key("src_ip");
  w.StringOrNull(f.ids.src_ip);
  w.Key("dst_ip");
  w.StringOrNull(f.ids.dst_ip);
  w.Key("threat_prediction");
  if (ids.threat_prediction_id != 0) {
    w.Open();
    w.Key("id");
    w.Int(ids.threat_prediction_id);
    w.Key("prediction_score");
    w.Double(f.threat.prediction_score);
    w.Key("is_attack");
    w.Bool(f.threat.is_attack);
    w.Key("threshold");
    w.Double(f.threat.threshold);
    w.Key("model_version");
    w.String(f.threat.model_version);
    w.Close();
  } else {
    w.Null();
  }
  w.Key("attack_prediction");
  if (f.attack && ids.attack_prediction_id != 0) {
    w.Open();
    w.Key("id");
    w.Int(ids.attack_prediction_id);
    w.Key("attack_type_encoded");
    w.Int(f.attack->attack_type_encoded);
    w.Key("attack_type_name");
    w.String(f.attack->attack_type_name);
    w.Key("confidence");
    if (f.attack->confidence) {
      w.Double(*f.attack->confidence);
    } else {
      w.Null();
    }
    w.Key("model_version");
    w.String(f.attack->model_version);
    w.Close();
  } else {
    w.Null();
  }
  // Decisions come later, as `action` messages (healing::Healer).
  w.Key("self_healing_action");
  w.Null();
  w.Close();
  return w.Take();
}

std::string EnvelopeText(std::string_view type, std::string_view data_json, std::string_view timestamp) {
  return fmt::format(FMT_COMPILE(R"({{"type":"{}","timestamp":"{}","data":{}}})"), type, timestamp, data_json);
}

std::string Envelope(std::string_view type, const json& data, Clock::WallTime now) {
  return json{{"type", type}, {"timestamp", FormatIso8601(now)}, {"data", data}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string ConnectedMessage(size_t connections, Clock::WallTime now) {
  return json{{"type", "connected"},
              {"message", "Connected to AI Threat Detection System"},
              {"connections", connections},
              {"timestamp", FormatIso8601(now)}}
      .dump();
}

std::string PongMessage(Clock::WallTime now) { return json{{"type", "pong"}, {"timestamp", FormatIso8601(now)}}.dump(); }

std::string PingMessage(Clock::WallTime now) { return json{{"type", "ping"}, {"timestamp", FormatIso8601(now)}}.dump(); }

std::string ErrorMessage(std::string_view message) {
  return json{{"type", "error"}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace threatd::realtime
