// ParseFlowMessage: the original's flat feature objects, envelopes, the
// external providers' format and the errors that become dead-letter headers.
#include "kafka/flow_message.h"

#include <gtest/gtest.h>

#include <cmath>

#include "flow/features.h"
#include "flow/labels.h"

namespace threatd::kafka {
namespace {

float Feature(const FlowMessage& m, std::string_view name) {
  auto f = flow::FindFeature(name);
  EXPECT_TRUE(f.has_value()) << name;
  return m.record.features[*f];
}

TEST(FlowMessageTest, OriginalFlatObjectWithLeadingSpacesMapsOntoCanonicalFeatures) {
  auto m = ParseFlowMessage(
      R"({" Destination Port": 443, " Flow Duration": 1200, "Flow Bytes/s": "2500.5", " Total Fwd Packets": 7,
          " Label": "DDoS", "unknown extra": 1})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->envelope);
  EXPECT_EQ(m->matched_features, 4u);
  EXPECT_FLOAT_EQ(Feature(*m, "dst_port"), 443);
  EXPECT_FLOAT_EQ(Feature(*m, "flow_duration"), 1200);
  EXPECT_FLOAT_EQ(Feature(*m, "flow_bytes_per_s"), 2500.5f);
  EXPECT_FLOAT_EQ(Feature(*m, "total_fwd_packets"), 7);
  EXPECT_TRUE(std::isnan(Feature(*m, "flow_iat_mean")));  // absent
  EXPECT_EQ(m->record.ids.dst_port, 443);                 // also an identifier
  EXPECT_EQ(m->record.label, "DDoS");
  EXPECT_TRUE(m->sender_ip.empty());
}

TEST(FlowMessageTest, OtherDialectsAndCanonicalNamesAreAccepted) {
  auto m = ParseFlowMessage(R"({"Tot Fwd Pkts": 3, "flow_iat_mean": 1.5, "Src IP": "10.0.0.1", "Dst Port": 22})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->matched_features, 3u);
  EXPECT_FLOAT_EQ(Feature(*m, "total_fwd_packets"), 3);
  EXPECT_FLOAT_EQ(Feature(*m, "flow_iat_mean"), 1.5f);
  EXPECT_EQ(m->record.ids.src_ip, "10.0.0.1");
  EXPECT_EQ(m->record.ids.dst_port, 22);
}

// Each thread remembers the previous message's keys by position; messages
// whose keys move, change or grow must map exactly as a first message would.
TEST(FlowMessageTest, KeysThatChangePlaceBetweenMessagesStillMapByName) {
  auto a = ParseFlowMessage(R"({" Flow Duration": 1, " Total Fwd Packets": 2, " Label": "DDoS"})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FLOAT_EQ(Feature(*a, "flow_duration"), 1);
  EXPECT_FLOAT_EQ(Feature(*a, "total_fwd_packets"), 2);
  EXPECT_EQ(a->record.label, "DDoS");

  // Swapped, a label where a feature was, a feature where the label was, more keys.
  auto b = ParseFlowMessage(
      R"({" Total Fwd Packets": 5, " Label": "PortScan", " Flow Duration": 7, "Src IP": "10.0.0.9", "x": 1})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->matched_features, 2u);
  EXPECT_FLOAT_EQ(Feature(*b, "flow_duration"), 7);
  EXPECT_FLOAT_EQ(Feature(*b, "total_fwd_packets"), 5);
  EXPECT_EQ(b->record.label, flow::NormaliseLabel("PortScan"));
  EXPECT_EQ(b->record.ids.src_ip, "10.0.0.9");

  // A key that only shares a prefix with the remembered one, and fewer keys.
  auto c = ParseFlowMessage(R"({" Total Fwd Packetz": 5, " Flow Duration": 3})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->matched_features, 1u);
  EXPECT_FLOAT_EQ(Feature(*c, "flow_duration"), 3);
  EXPECT_TRUE(std::isnan(Feature(*c, "total_fwd_packets")));
  EXPECT_TRUE(c->record.label.empty());

  // An envelope after flat objects: top-level keys stay identifiers only.
  auto d = ParseFlowMessage(R"({"flow_duration": 999, "features": {" Flow Duration": 4}, "src_ip": "192.0.2.7"})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FLOAT_EQ(Feature(*d, "flow_duration"), 4);
  EXPECT_EQ(d->record.ids.src_ip, "192.0.2.7");
}

TEST(FlowMessageTest, EnvelopeCarriesIdentifiersBesideTheFeatures) {
  auto m = ParseFlowMessage(R"({"features": {" Flow Duration": 10, " Destination Port": 80},
      "src_ip": "192.0.2.1", "dst_ip": "198.51.100.2", "src_port": "51000", "protocol": 6,
      "timestamp": "2026-01-02T03:04:05Z", "flow_id": "f-1", "label": "benign", "flow_duration": 999})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->envelope);
  EXPECT_EQ(m->matched_features, 2u);
  EXPECT_FLOAT_EQ(Feature(*m, "flow_duration"), 10);  // top-level keys are never features
  EXPECT_EQ(m->record.ids.src_ip, "192.0.2.1");
  EXPECT_EQ(m->record.ids.dst_ip, "198.51.100.2");
  EXPECT_EQ(m->record.ids.src_port, 51000);
  EXPECT_EQ(m->record.ids.protocol, 6);
  EXPECT_EQ(m->record.ids.flow_id, "f-1");
  EXPECT_EQ(m->record.ids.timestamp_us, 1767323045000000);
  EXPECT_EQ(m->record.label, "BENIGN");
}

TEST(FlowMessageTest, NumericTimestampsAreSecondsMillisecondsOrMicroseconds) {
  for (const char* ts : {"1767323045", "1767323045000", "1767323045000000"}) {
    auto m = ParseFlowMessage(std::string(R"({"features": {"flow_duration": 1}, "timestamp": )") + ts + "}");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->record.ids.timestamp_us, 1767323045000000) << ts;
  }
}

TEST(FlowMessageTest, ExternalSenderComesFromTheHeaderFirstThenThePayload) {
  const std::string payload = R"({"sender_ip": "203.0.113.9", "timestamp": "x", "features": {" Flow Duration": 1}})";
  auto from_payload = ParseFlowMessage(payload);
  ASSERT_TRUE(from_payload.ok()) << from_payload.status().ToString();
  EXPECT_EQ(from_payload->sender_ip, "203.0.113.9");
  EXPECT_EQ(from_payload->record.ids.timestamp_us, 0);  // unparsable timestamp: ignored, as the original did
  auto from_header = ParseFlowMessage(payload, std::string_view("198.51.100.7"));
  ASSERT_TRUE(from_header.ok());
  EXPECT_EQ(from_header->sender_ip, "198.51.100.7");
  auto flat = ParseFlowMessage(R"({" Flow Duration": 1})", std::string_view("198.51.100.7"));
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->sender_ip, "198.51.100.7");
}

TEST(FlowMessageTest, MissingMarkersBecomeNaN) {
  auto m = ParseFlowMessage(
      R"({"Flow Bytes/s": "Infinity", " Flow Packets/s": null, " Flow Duration": "NaN", "Init_Win_bytes_forward": -1,
          " Total Fwd Packets": 1e300})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(std::isnan(Feature(*m, "flow_bytes_per_s")));
  EXPECT_TRUE(std::isnan(Feature(*m, "flow_packets_per_s")));
  EXPECT_TRUE(std::isnan(Feature(*m, "flow_duration")));
  EXPECT_TRUE(std::isnan(Feature(*m, "init_fwd_win_bytes")));  // negative sentinel
  EXPECT_TRUE(std::isnan(Feature(*m, "total_fwd_packets")));   // beyond float range
}

void ExpectError(std::string_view payload, std::string_view fragment) {
  auto m = ParseFlowMessage(payload);
  ASSERT_FALSE(m.ok()) << payload;
  EXPECT_EQ(m.status().code(), ErrorCode::kValidation);
  EXPECT_NE(m.status().message().find(fragment), std::string::npos) << m.status().message();
}

TEST(FlowMessageTest, ErrorsSayWhatIsWrong) {
  ExpectError("", "empty message");
  ExpectError(R"({"a": 1,, "b": 2})", "bad JSON at byte 9");
  ExpectError("not json", "bad JSON at byte 2");
  ExpectError(R"([1, 2])", "must be a JSON object, found array");
  ExpectError(R"({"features": [1, 2]})", "'features' must be an object");
  ExpectError(R"({"features": {}})", "'features' is empty");
  ExpectError(R"({})", "empty object");
  ExpectError(R"({"src_bytes": 1, "dst_bytes": 2, "flag": 3})",
              "none of the 3 keys ('src_bytes', 'dst_bytes', 'flag') is a known feature name");  // in message order
  ExpectError(R"({" Flow Duration": "abc"})", "feature ' Flow Duration': 'abc' is not a number");
  ExpectError(R"({" Flow Duration": true})", "expected a number, found boolean");
  ExpectError(R"({" Flow Duration": {"x": 1}})", "expected a number, found object");
}

// Values are parsed as they are read (simdjson On-Demand); a malformed value
// threatd has no use for, or text after the object, still refuses the
// message, as a full parse would.
TEST(FlowMessageTest, MalformedJsonIsRefusedWhereverItIs) {
  ExpectError(R"({" Flow Duration": 1, "unknown": tru})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1, "unknown": 01})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1, "unknown": "\x"})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1, "unknown": {"deep": [1, nul]}})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1, "Flow Duration": tru})", "bad JSON at byte");  // a second spelling
  ExpectError(R"({" Flow Duration": 1, " Label": fals})", "bad JSON at byte");
  ExpectError(R"({"features": {" Flow Duration": 1}, "features": [tru]})", "bad JSON at byte");
  ExpectError(R"({"features": {" Flow Duration": 1}, "x": nan})", "bad JSON at byte");
  ExpectError(R"({"features": {" Flow Duration": 1}, "sender_ip": 1.2.3})", "bad JSON at byte");
  ExpectError(R"({"features": {" Flow Duration": 1}, "src_port": -})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1}})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1} {})", "bad JSON at byte");
  ExpectError(R"({" Flow Duration": 1)", "bad JSON");
  EXPECT_TRUE(ParseFlowMessage(R"({" Flow Duration": 1, "unknown": {"deep": [1, null, "\u00e9"]}}  )").ok());
}

// A port is a feature and an identifier: one value, read once, gives both.
TEST(FlowMessageTest, APortIsBothAFeatureAndAnIdentifier) {
  auto m = ParseFlowMessage(R"({" Destination Port": "8080", " Flow Duration": 1})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FLOAT_EQ(Feature(*m, "dst_port"), 8080);
  EXPECT_EQ(m->record.ids.dst_port, 8080);
  auto fraction = ParseFlowMessage(R"({" Destination Port": 80.5, " Flow Duration": 1})");
  ASSERT_TRUE(fraction.ok());
  EXPECT_FLOAT_EQ(Feature(*fraction, "dst_port"), 80.5f);
  EXPECT_EQ(fraction->record.ids.dst_port, -1);
  // A second spelling neither overrides the feature nor the identifier.
  auto twice = ParseFlowMessage(R"({" Destination Port": 443, "Dst Port": 22, " Flow Duration": 1})");
  ASSERT_TRUE(twice.ok());
  EXPECT_FLOAT_EQ(Feature(*twice, "dst_port"), 443);
  EXPECT_EQ(twice->record.ids.dst_port, 443);
}

TEST(FlowMessageTest, RequiredFeaturesAreNamedWhenMissing) {
  FlowMessageOptions o;
  o.required_features = {*flow::FindFeature("flow_duration"), *flow::FindFeature("flow_iat_mean"),
                         *flow::FindFeature("dst_port")};
  auto ok = ParseFlowMessage(R"({" Flow Duration": 1, " Flow IAT Mean": 2, " Destination Port": 3})", {}, o);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto m = ParseFlowMessage(R"({" Flow Duration": 1})", {}, o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("missing features 'flow_iat_mean', 'dst_port' (matched 1 of 3 required)"),
            std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace threatd::kafka
