// CSV reader throughput on generated CICFlowMeter-like data (never the shared
// data sets). Reports bytes/s; the target is >= 300 MB/s on one core.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "flow/csv_reader.h"
#include "flow/flow_csv_stream.h"

namespace threatd::flow {
namespace {

// ~64 MB of rows shaped like the improved CIC-IDS2017 files (91 columns).
const std::string& GeneratedCsv() {
  static const std::string text = [] {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> small(0, 65535);
    std::uniform_real_distribution<double> real(0, 1e6);
    std::string s = "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp";
    for (int c = 0; c < 82; ++c) s += ",Feature " + std::to_string(c);
    s += ",Label\n";
    while (s.size() < (64u << 20)) {
      s += std::to_string(small(rng)) + ",192.168.10.5-104.16.207.165-54865-443-6,192.168.10.5," +
           std::to_string(small(rng)) + ",104.16.207.165,443,6,2017-07-03 11:57:51.590705";
      for (int c = 0; c < 82; ++c) {
        s += ',';
        s += (c % 3 == 0) ? std::to_string(real(rng)) : std::to_string(small(rng));
      }
      s += (small(rng) % 7 == 0) ? ",\"Web Attack \x96 Brute Force\"\n" : ",BENIGN\n";
    }
    return s;
  }();
  return text;
}

void BM_CsvReader(benchmark::State& state) {
  const std::string& text = GeneratedCsv();
  uint64_t fields = 0;
  for (auto _ : state) {
    CsvReader reader(MakeMemorySource(text));
    for (;;) {
      auto has = reader.Next();
      if (!has.ok() || !*has) break;
      fields += reader.row().size();
    }
  }
  benchmark::DoNotOptimize(fields);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CsvReader)->Unit(benchmark::kMillisecond);

// Reader + alias mapping + value policy: the upload path end to end.
void BM_FlowCsvStream(benchmark::State& state) {
  const std::string& text = GeneratedCsv();
  // Rename the generated features to real improved-dialect names.
  static const std::string mapped = [&] {
    std::string header =
        "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,"
        "Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Fwd Packet Length Max,"
        "Fwd Packet Length Min,Fwd Packet Length Mean,Fwd Packet Length Std,Bwd Packet Length Max,"
        "Bwd Packet Length Min,Bwd Packet Length Mean,Bwd Packet Length Std,Flow Bytes/s,Flow Packets/s,"
        "Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Total,Fwd IAT Mean,Fwd IAT Std,"
        "Fwd IAT Max,Fwd IAT Min,Bwd IAT Total,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,"
        "Fwd PSH Flags,Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd RST Flags,Bwd RST Flags,"
        "Fwd Header Length,Bwd Header Length,Fwd Packets/s,Bwd Packets/s,Packet Length Min,"
        "Packet Length Max,Packet Length Mean,Packet Length Std,Packet Length Variance,FIN Flag Count,"
        "SYN Flag Count,RST Flag Count,PSH Flag Count,ACK Flag Count,URG Flag Count,CWR Flag Count,"
        "ECE Flag Count,Down/Up Ratio,Average Packet Size,Fwd Segment Size Avg,Bwd Segment Size Avg,"
        "Fwd Bytes/Bulk Avg,Fwd Packet/Bulk Avg,Fwd Bulk Rate Avg,Bwd Bytes/Bulk Avg,Bwd Packet/Bulk Avg,"
        "Bwd Bulk Rate Avg,Subflow Fwd Packets,Subflow Fwd Bytes,Subflow Bwd Packets,Subflow Bwd Bytes,"
        "FWD Init Win Bytes,Bwd Init Win Bytes,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,Active Std,"
        "Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,ICMP Code,ICMP Type,"
        "Total TCP Flow Time,Extra,Label\n";
    return header + text.substr(text.find('\n') + 1);
  }();
  uint64_t records = 0;
  for (auto _ : state) {
    auto stream = FlowCsvStream::Open(MakeMemorySource(mapped));
    if (!stream.ok()) {
      state.SkipWithError(stream.status().ToString().c_str());
      return;
    }
    for (;;) {
      auto item = (*stream)->Next();
      if (!item.ok() || *item == FlowCsvStream::Item::kEnd) break;
      ++records;
    }
  }
  benchmark::DoNotOptimize(records);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * mapped.size()));
}
BENCHMARK(BM_FlowCsvStream)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace threatd::flow
