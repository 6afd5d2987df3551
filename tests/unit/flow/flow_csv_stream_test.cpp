#include "flow/flow_csv_stream.h"

#include <gtest/gtest.h>

#include <cmath>

namespace threatd::flow {
namespace {

const char* kCsv =
    "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp,"
    " Flow Duration,Flow Bytes/s,Init_Win_bytes_forward, Label\n"
    "a-b-1,10.0.0.1,5555,10.0.0.2,80,6,3/7/2017 8:55,100,Infinity,-1,BENIGN\n"
    "a-b-2,10.0.0.1,5556,10.0.0.2,80,6,3/7/2017 8:56,200,abc,29200,Web Attack \x96 Brute Force\n"
    "a-b-3,10.0.0.1,5557,10.0.0.2,443,6,3/7/2017 8:57,,NaN,29200,PortScan\n"
    "truncated,row\n";

TEST(FlowCsvStream, RecordsRowErrorsAndStats) {
  auto s = FlowCsvStream::Open(MakeMemorySource(kCsv));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  FlowCsvStream& stream = **s;
  ASSERT_TRUE(stream.has_label());
  size_t duration = *FindFeature("flow_duration"), bytes = *FindFeature("flow_bytes_per_s"),
         win = *FindFeature("init_fwd_win_bytes"), port = *FindFeature("dst_port");

  auto item = stream.Next();
  ASSERT_TRUE(item.ok());
  ASSERT_EQ(*item, FlowCsvStream::Item::kRecord);
  const FlowRecord& r = stream.record();
  EXPECT_EQ(r.features[duration], 100.0f);
  EXPECT_TRUE(std::isnan(r.features[bytes]));
  EXPECT_TRUE(std::isnan(r.features[win]));
  EXPECT_EQ(r.features[port], 80.0f);
  EXPECT_TRUE(std::isnan(r.features[*FindFeature("icmp_code")]));  // absent column
  EXPECT_EQ(r.ids.src_ip, "10.0.0.1");
  EXPECT_EQ(r.ids.src_port, 5555);
  EXPECT_EQ(r.ids.dst_port, 80);
  EXPECT_EQ(r.ids.protocol, 6);
  EXPECT_EQ(r.ids.flow_id, "a-b-1");
  EXPECT_EQ(r.ids.timestamp_us, (1499040000LL + 8 * 3600 + 55 * 60) * 1000000);
  EXPECT_EQ(r.label, "BENIGN");

  ASSERT_EQ(*stream.Next(), FlowCsvStream::Item::kRowError);
  EXPECT_EQ(stream.row_error().ToString(), "row 2 (line 3), column 'Flow Bytes/s', value 'abc': not a number");

  ASSERT_EQ(*stream.Next(), FlowCsvStream::Item::kRecord);
  EXPECT_EQ(stream.record().label, "Portscan");
  EXPECT_TRUE(std::isnan(stream.record().features[duration]));

  ASSERT_EQ(*stream.Next(), FlowCsvStream::Item::kRowError);
  EXPECT_NE(stream.row_error().reason.find("expected 11 fields, found 2"), std::string::npos);
  ASSERT_EQ(*stream.Next(), FlowCsvStream::Item::kEnd);

  EXPECT_EQ(stream.rows(), 4u);
  EXPECT_EQ(stream.row_errors(), 2u);
  EXPECT_EQ(stream.column_stats()[bytes].missing, 2u);
  EXPECT_EQ(stream.column_stats()[bytes].infinite, 1u);
  EXPECT_EQ(stream.column_stats()[win].sentinel, 1u);
  EXPECT_EQ(stream.column_stats()[duration].missing, 1u);
}

TEST(FlowCsvStream, RequiredFeaturesCheckedAtOpen) {
  FlowStreamOptions opts;
  opts.required_features = {"flow_duration", "fwd_iat_min", "idle_max"};
  auto s = FlowCsvStream::Open(MakeMemorySource(kCsv), opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "missing 'fwd_iat_min', 'idle_max' (matched 1 of 3 features); see docs/formats/flows.md");
}

TEST(FlowCsvStream, EmptyInputIsAnError) {
  auto s = FlowCsvStream::Open(MakeMemorySource(""));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("empty"), std::string::npos);
}

TEST(FlowCsvStream, FedByCallbackChunks) {
  std::string text = kCsv;
  size_t pos = 0;
  auto s = FlowCsvStream::Open(MakeCallbackSource([&](char* buf, size_t cap) -> Result<size_t> {
    size_t n = std::min<size_t>({3, cap, text.size() - pos});
    std::copy_n(text.data() + pos, n, buf);
    pos += n;
    return n;
  }));
  ASSERT_TRUE(s.ok());
  int records = 0, errors = 0;
  for (;;) {
    auto item = (*s)->Next();
    ASSERT_TRUE(item.ok());
    if (*item == FlowCsvStream::Item::kEnd) break;
    (*item == FlowCsvStream::Item::kRecord ? records : errors)++;
  }
  EXPECT_EQ(records, 2);
  EXPECT_EQ(errors, 2);
}

}  // namespace
}  // namespace threatd::flow
