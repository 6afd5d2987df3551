#include "ingest/test_stream.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "flow/features.h"
#include "support/eventually.h"
#include "unit/ingest/ingest_fakes.h"

namespace threatd::ingest {
namespace {

using threatd::testing::Eventually;
using testing::FakeSourceRepository;
using testing::TinyProfile;

// Records what the stream submits; answers `done` like a pipeline would.
class FakeSink {
 public:
  Status operator()(pipeline::FlowBatch batch) {
    std::lock_guard lock(mu_);
    if (!fail_.ok()) return fail_;
    batches_.push_back(batch.flows.size());
    for (const auto& f : batch.flows) {
      labels_.push_back(f.label);
      sources_.push_back(batch.source);
    }
    if (batch.done) {
      pipeline::BatchResult r;
      r.stored = batch.flows.size();
      for (const auto& f : batch.flows) ++r.by_class[f.label];
      batch.done(r);
    }
    return Status::Ok();
  }
  size_t flows() const {
    std::lock_guard lock(mu_);
    return labels_.size();
  }
  std::vector<size_t> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<std::string> labels() const {
    std::lock_guard lock(mu_);
    return labels_;
  }
  std::vector<std::string> sources() const {
    std::lock_guard lock(mu_);
    return sources_;
  }
  void Fail(Status s) {
    std::lock_guard lock(mu_);
    fail_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  Status fail_;
  std::vector<size_t> batches_;
  std::vector<std::string> labels_;
  std::vector<std::string> sources_;
};

class TestStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sources_.Refresh().ok()); }

  TestStream::Sink Sink() {
    return [this](pipeline::FlowBatch b) { return sink_(std::move(b)); };
  }
  // Moves the fake time on until `n` flows arrived (or a real-time timeout).
  bool DriveUntil(size_t n, std::chrono::milliseconds step = std::chrono::milliseconds(500)) {
    return Eventually([&] {
      if (sink_.flows() >= n) return true;
      clock_.Advance(step);
      return false;
    });
  }

  FakeClock clock_;
  FakeSourceRepository repo_{clock_};
  SourceStates sources_{repo_, clock_};
  FakeSink sink_;
};

TEST_F(TestStreamTest, SendsExactlyCountFlowsOnePerIntervalThenStops) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 5;
  req.rate = 1.0;  // interval 1 s
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(Eventually([&] { return sink_.flows() == 1; }));  // the first flow goes at once
  EXPECT_EQ(sink_.flows(), 1u);  // the next one waits for the (fake) second to pass
  ASSERT_TRUE(DriveUntil(5));
  ASSERT_TRUE(Eventually([&] { return !stream.Snapshot().running; }));
  clock_.Advance(std::chrono::seconds(10));
  stream.Stop();
  EXPECT_EQ(sink_.flows(), 5u);
  EXPECT_EQ(sink_.batches(), std::vector<size_t>(5, 1));  // one flow per interval
  for (const auto& s : sink_.sources()) EXPECT_EQ(s, "test_stream");
  const auto st = stream.Snapshot();
  EXPECT_EQ(st.sent, 5u);
  EXPECT_EQ(st.count, 5);
  EXPECT_FALSE(st.stop_reason.has_value());
}

TEST_F(TestStreamTest, HighRatesAreBatchedByAboutAHundredMilliseconds) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 1000;
  req.rate = 500;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(1000, std::chrono::milliseconds(100)));
  ASSERT_TRUE(Eventually([&] { return !stream.Snapshot().running; }));
  for (size_t b : sink_.batches()) EXPECT_EQ(b, 50u);
  EXPECT_EQ(sink_.flows(), 1000u);
}

TEST_F(TestStreamTest, StopEndsAnUnlimitedStreamAndAllowsANewOne) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 0;
  req.rate = 100;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(100, std::chrono::milliseconds(100)));
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kConflict);  // one stream at a time
  stream.Stop();
  EXPECT_FALSE(stream.Snapshot().running);
  EXPECT_EQ(stream.Snapshot().stop_reason, std::optional<std::string>("stopped by request"));
  const size_t after_stop = sink_.flows();
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(sink_.flows(), after_stop);
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(after_stop + 1));
  stream.Stop();
}

TEST_F(TestStreamTest, DisablingInternalKafkaStopsTheStreamAndRefusesANewOne) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 0;
  req.rate = 10;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(Eventually([&] { return sink_.flows() >= 1; }));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(sources_.Update("internal_kafka", false, std::nullopt).ok());
  ASSERT_TRUE(Eventually([&] { return !stream.Snapshot().running; }));
  EXPECT_EQ(stream.Snapshot().stop_reason, std::optional<std::string>("the internal_kafka source was disabled"));
  const Status again = stream.Start(req);
  EXPECT_EQ(again.code(), ErrorCode::kConflict);
  EXPECT_NE(again.hint().find("internal_kafka"), std::string::npos);
  EXPECT_EQ(stream.SendSingle("attack_classification").status().code(), ErrorCode::kConflict);
}

TEST_F(TestStreamTest, AFlagFlippedByAnotherInstanceStopsTheStreamOnRefresh) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 0;
  ASSERT_TRUE(stream.Start(req).ok());
  clock_.Advance(std::chrono::seconds(1));
  repo_.SetEnabledBehindTheBack("internal_kafka", false);
  ASSERT_TRUE(sources_.Refresh().ok());  // what the refresh thread does every second
  ASSERT_TRUE(Eventually([&] { return !stream.Snapshot().running; }));
}

TEST_F(TestStreamTest, AttackMixControlsTheClasses) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 200;
  req.rate = 1000;
  req.attack_fraction = 0.0;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(200, std::chrono::milliseconds(100)));
  stream.Stop();
  for (const auto& l : sink_.labels()) EXPECT_EQ(l, "BENIGN");

  req.attack_fraction.reset();
  req.attack_mix = {{"DDoS", 1.0}};
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(400, std::chrono::milliseconds(100)));
  stream.Stop();
  const auto labels = sink_.labels();
  for (size_t i = 200; i < labels.size(); ++i) EXPECT_EQ(labels[i], "DDoS");
}

TEST_F(TestStreamTest, AttackClassificationDefaultsToAttackFlowsOnly) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = 100;
  req.rate = 1000;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(DriveUntil(100, std::chrono::milliseconds(100)));
  stream.Stop();
  for (const auto& l : sink_.labels()) EXPECT_NE(l, "BENIGN");
}

TEST_F(TestStreamTest, RejectsBadRequests) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  StreamRequest req;
  req.count = -1;
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kValidation);
  req = {};
  req.rate = 0;
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kValidation);
  req.rate = std::nan("");
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kValidation);
  req = {};
  req.model_type = "nope";
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kValidation);
  req = {};
  req.attack_fraction = 1.5;
  EXPECT_EQ(stream.Start(req).code(), ErrorCode::kValidation);
  req = {};
  req.attack_mix = {{"Heartbleed", 1.0}};  // not in the profile
  const Status s = stream.Start(req);
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.hint().find("DDoS"), std::string::npos) << s.ToString();
  EXPECT_FALSE(stream.Snapshot().running);
}

TEST_F(TestStreamTest, WithoutAProfileStartIsUnavailableAndSaysWhy) {
  TestStream stream(Sink(), nullptr, sources_, clock_, "file /x/models/traffic_profile.json.gz is missing");
  const Status s = stream.Start(StreamRequest{});
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("traffic_profile.json.gz"), std::string::npos);
  EXPECT_EQ(stream.HealthCheck()["status"], "degraded");
}

TEST_F(TestStreamTest, SendSingleReturnsTheStoredFlow) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  auto one = stream.SendSingle("attack_classification");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_NE(one->flow.label, "BENIGN");
  EXPECT_EQ(one->result.stored, 1u);
  EXPECT_EQ(sink_.flows(), 1u);
  const auto j = FlowJson(one->flow);
  EXPECT_TRUE(j["features"].contains("flow_duration"));
  for (const auto& [name, value] : j["features"].items()) {  // a float's digits, never widening noise
    EXPECT_LE(value.dump().size(), 15u) << name << " = " << value.dump();
    EXPECT_EQ(static_cast<float>(value.get<double>()), one->flow.features[*flow::FindFeature(name)]) << name;
  }
  EXPECT_EQ(stream.SendSingle("bogus").status().code(), ErrorCode::kValidation);
}

TEST_F(TestStreamTest, SendSingleTimesOutWhenThePipelineNeverAnswers) {
  TestStream stream([](pipeline::FlowBatch) { return Status::Ok(); }, TinyProfile(), sources_, clock_);
  EXPECT_EQ(stream.SendSingle("threat_detection", std::chrono::milliseconds(10)).status().code(),
            ErrorCode::kTimeout);
}

TEST_F(TestStreamTest, ANonRetryableSinkErrorEndsTheStream) {
  TestStream stream(Sink(), TinyProfile(), sources_, clock_);
  sink_.Fail(Status::Internal("pipeline stopped"));
  StreamRequest req;
  req.count = 0;
  ASSERT_TRUE(stream.Start(req).ok());
  ASSERT_TRUE(Eventually([&] { return !stream.Snapshot().running; }));
  const auto st = stream.Snapshot();
  EXPECT_EQ(st.sent, 0u);
  EXPECT_EQ(st.failed, 1u);
  ASSERT_TRUE(st.stop_reason.has_value());
  EXPECT_NE(st.stop_reason->find("pipeline stopped"), std::string::npos);
}

}  // namespace
}  // namespace threatd::ingest
