// End-to-end: POST /api/v1/upload/csv against the real binary - a generated
// CICFlowMeter file, the ugly cases (empty, binary, header only, bad cells,
// NaN/Infinity, a truncated last line, cp1252 bytes, duplicated columns),
// roles, async uploads, and the batch and prediction endpoints that show
// the results.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "threatd_process.h"

namespace threatd::testing {
namespace {

constexpr const char* kBoundary = "threatd-e2e-boundary-7MA4YWxkTrZu0gW";

std::string Multipart(const std::string& filename, const std::string& content, const std::string& field = "file") {
  std::string body;
  body += "--" + std::string(kBoundary) + "\r\n";
  body += "Content-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n";
  body += "--" + std::string(kBoundary) + "\r\n";
  body += "Content-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename + "\"\r\n";
  body += "Content-Type: text/csv\r\n\r\n";
  body += content;
  body += "\r\n--" + std::string(kBoundary) + "--\r\n";
  return body;
}

class UploadE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new ThreatdProcess();
    std::string error;
    ASSERT_TRUE(service_->Start(&error)) << error;
    // 600 generated flows in CICFlowMeter's CSV layout.
    const std::string path = service_->data_dir() + "/flows.csv";
    auto r = service_->Run({"simulate", "--profile", ThreatdProcess::SourceDir() + "/models/traffic_profile.json.gz",
                            "--count", "600", "--mix", "BENIGN=0.5,DDoS=0.25,Portscan=0.25", "--seed", "7", "--out",
                            path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::stringstream ss;
    ss << std::ifstream(path).rdbuf();
    csv_ = new std::string(ss.str());
  }
  static void TearDownTestSuite() {
    delete service_;
    delete csv_;
  }

  Result<TestResponse> Upload(const std::string& filename, const std::string& content, const std::string& query = "",
                              const std::string& key = "") {
    HttpClient client("127.0.0.1", service_->port(), std::chrono::seconds(60));
    return client.Request("POST", "/api/v1/upload/csv" + query, Multipart(filename, content),
                          {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
                           {"Authorization", "Bearer " + (key.empty() ? service_->admin_key() : key)}});
  }
  Result<TestResponse> Get(const std::string& target) {
    HttpClient client("127.0.0.1", service_->port());
    return client.Request("GET", target, {}, {{"Authorization", "Bearer " + service_->admin_key()}});
  }
  static std::string Header() { return csv_->substr(0, csv_->find('\n') + 1); }
  // The first n data rows.
  static std::string Rows(size_t n) {
    size_t pos = csv_->find('\n') + 1;
    const size_t start = pos;
    for (size_t i = 0; i < n && pos < csv_->size(); ++i) pos = csv_->find('\n', pos) + 1;
    return csv_->substr(start, pos - start);
  }

  static ThreatdProcess* service_;
  static std::string* csv_;
};

ThreatdProcess* UploadE2E::service_ = nullptr;
std::string* UploadE2E::csv_ = nullptr;

TEST_F(UploadE2E, ScoresEveryRowAndShowsTheBatch) {
  auto r = Upload("flows.csv", *csv_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = r->json();
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["total_rows"], 600);
  EXPECT_EQ(j["accepted_rows"], 600);
  EXPECT_EQ(j["rejected_rows"], 0);
  EXPECT_GT(j["attacks"].get<int>(), 150);
  EXPECT_FALSE(j["by_class"].empty());
  EXPECT_EQ(j["by_label"]["BENIGN"].get<int>() + j["by_label"]["DDoS"].get<int>() +
                j["by_label"]["Portscan"].get<int>(),
            600);
  const std::string batch = j["batch_id"];

  auto b = Get("/api/v1/upload/batch/" + batch + "?limit=10");
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->status, 200) << b->body;
  EXPECT_EQ(b->json()["total_rows"], 600);
  EXPECT_EQ(b->json()["predictions"].size(), 10u);

  auto list = Get("/api/v1/upload/batches");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->status, 200) << list->body;
  bool found = false;
  const auto batches = list->json()["batches"];
  for (const auto& e : batches) found |= e["batch_id"] == batch;
  EXPECT_TRUE(found) << list->body.substr(0, 400);
}

TEST_F(UploadE2E, RowsWithBadCellsAreRejectedWithReasonsAndExamples) {
  std::string rows = Rows(20);
  // Row 3: a word where a number belongs, in the first numeric cell after the identifiers.
  std::vector<std::string> lines;
  std::stringstream ss(rows);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  auto corrupt = [&](size_t row, const std::string& value) {
    // Replace the last-but-one comma-separated cell (a numeric feature; the last is the label).
    std::string& l = lines[row];
    const size_t last = l.rfind(',');
    const size_t prev = l.rfind(',', last - 1);
    l = l.substr(0, prev + 1) + value + l.substr(last);
  };
  corrupt(2, "abc");
  corrupt(5, "NaN");
  corrupt(6, "Infinity");
  corrupt(7, "");
  std::string content = Header();
  for (const auto& l : lines) content += l + "\n";

  auto r = Upload("cells.csv", content);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = r->json();
  EXPECT_EQ(j["total_rows"], 20);
  EXPECT_EQ(j["rejected_rows"], 1) << j.dump(2);
  EXPECT_EQ(j["accepted_rows"], 19);
  ASSERT_EQ(j["rejected_by_reason"].size(), 1u) << j.dump(2);
  const auto& reason = j["rejected_by_reason"].begin().value();
  EXPECT_EQ(reason["count"], 1);
  EXPECT_EQ(reason["examples"][0]["row"], 3);
  EXPECT_EQ(reason["examples"][0]["value"], "abc");
  // NaN, Infinity and an empty cell are missing values, not errors.
  EXPECT_FALSE(j["columns"]["missing_values"].empty()) << j.dump(2);
}

TEST_F(UploadE2E, TruncatedLastLineAndCp1252BytesDoNotLoseTheOtherRows) {
  std::string content = Header() + Rows(10);
  const std::string partial = Rows(11).substr(Rows(10).size());
  content += partial.substr(0, partial.size() / 3);  // cut mid-row, no newline
  auto r = Upload("truncated.csv", content);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->json()["accepted_rows"], 10) << r->body;
  EXPECT_EQ(r->json()["rejected_rows"], 1) << r->body;

  // A cp1252 byte (0x96, an en dash) inside a label: the row is still read.
  std::string rows = Rows(3);
  const size_t pos = rows.rfind(',', rows.find('\n'));
  rows.insert(pos + 1, "Web Attack \x96 ");
  auto r2 = Upload("cp1252.csv", Header() + rows);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 200) << r2->body;
  EXPECT_EQ(r2->json()["total_rows"], 3) << r2->body;
}

TEST_F(UploadE2E, DuplicatedColumnIsReported) {
  const std::string header = Header();
  const std::string first = header.substr(0, header.find(','));
  // Append a copy of the second column's name and value.
  std::string h = header.substr(0, header.size() - 1);
  const size_t c1 = h.find(',');
  const std::string second = h.substr(c1 + 1, h.find(',', c1 + 1) - c1 - 1);
  std::string content = h + "," + second + "\n";
  std::stringstream ss(Rows(5));
  for (std::string line; std::getline(ss, line);) content += line + ",0\n";
  auto r = Upload("dup.csv", content);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->json()["columns"]["duplicates"].size(), 1u) << r->body;
  EXPECT_EQ(r->json()["accepted_rows"], 5);
}

TEST_F(UploadE2E, UnusableFilesGetClearErrorsAndStoreNothing) {
  auto stats_before = Get("/api/v1/predictions/stats");
  ASSERT_TRUE(stats_before.ok());
  const auto total_before = stats_before->json()["total_predictions"];

  auto empty = Upload("empty.csv", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->status, 400) << empty->body;

  std::string binary(4096, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>((i * 7919) & 0xFF);
  auto bin = Upload("binary.csv", binary);
  ASSERT_TRUE(bin.ok());
  EXPECT_TRUE(bin->status == 400 || bin->status == 422) << bin->status << " " << bin->body;

  auto header_only = Upload("header.csv", Header());
  ASSERT_TRUE(header_only.ok());
  EXPECT_EQ(header_only->status, 422) << header_only->body;
  EXPECT_NE(header_only->json()["detail"].get<std::string>().find("no data rows"), std::string::npos);

  auto missing = Upload("missing.csv", "a,b,c\n1,2,3\n");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 422) << missing->body;
  EXPECT_NE(missing->body.find("missing"), std::string::npos) << missing->body;

  auto not_csv = Upload("model.pkl", "\x80\x04\x95");
  ASSERT_TRUE(not_csv.ok());
  EXPECT_EQ(not_csv->status, 400) << not_csv->body;
  EXPECT_NE(not_csv->body.find("File must be a CSV"), std::string::npos);

  HttpClient client("127.0.0.1", service_->port());
  auto raw = client.Request("POST", "/api/v1/upload/csv", *csv_,
                            {{"Content-Type", "text/csv"}, {"Authorization", "Bearer " + service_->admin_key()}});
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->status, 400) << raw->body;

  auto stats_after = Get("/api/v1/predictions/stats");
  ASSERT_TRUE(stats_after.ok());
  EXPECT_EQ(stats_after->json()["total_predictions"], total_before);
}

TEST_F(UploadE2E, ViewersCannotUploadAndAnonymousIsRefused) {
  HttpClient client("127.0.0.1", service_->port());
  auto created = client.Request("POST", "/api/v1/keys", R"({"name":"viewer-e2e","role":"viewer"})",
                                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + service_->admin_key()}});
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201) << created->body;
  auto r = Upload("flows.csv", Rows(2), "", created->json()["key"]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403) << r->body;

  auto anon = client.Request("POST", "/api/v1/upload/csv", Multipart("a.csv", Header() + Rows(1)),
                             {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}});
  ASSERT_TRUE(anon.ok());
  EXPECT_EQ(anon->status, 401);
}

TEST_F(UploadE2E, AsyncUploadReturns202AndCompletesInTheBackground) {
  auto r = Upload("async.csv", Header() + Rows(300), "?async=true");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string batch = r->json()["batch_id"];
  std::string status;
  for (int i = 0; i < 200 && status != "completed" && status != "failed"; ++i) {
    auto b = Get("/api/v1/upload/batch/" + batch);
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->status, 200) << b->body;
    status = b->json()["status"];
    if (status == "processing") std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, "completed");
  auto b = Get("/api/v1/upload/batch/" + batch);
  EXPECT_EQ(b->json()["total_rows"], 300) << b->body;
}

// Peak resident memory of a process (VmHWM), in bytes; 0 when unknown.
uint64_t PeakRss(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:   12345 kB"
  }
  return 0;
}

// A 2 GiB upload, generated while it is sent (never held in memory on either
// side): the generated rows repeated, each with a 3 KB column the flow
// mapping ignores. The server stores every row and its memory stays flat.
TEST_F(UploadE2E, TwoGigabyteUploadIsStoredInFlatMemory) {
  const std::string padding(3000, 'p');
  std::vector<std::string> rows;
  {
    std::istringstream in(Rows(600));
    for (std::string line; std::getline(in, line);) rows.push_back(line + "," + padding + "\n");
  }
  uint64_t cycle_bytes = 0;
  for (const auto& r : rows) cycle_bytes += r.size();
  std::string head = Header();
  head.insert(head.size() - 1, ",Padding");
  const std::string prefix = "--" + std::string(kBoundary) +
                             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
                             "Content-Type: text/csv\r\n\r\n" + head;
  const std::string suffix = "\r\n--" + std::string(kBoundary) + "--\r\n";
  const uint64_t cycles = (uint64_t{2} << 30) / cycle_bytes + 1;
  const uint64_t total = prefix.size() + cycles * cycle_bytes + suffix.size();
  const uint64_t expected_rows = cycles * rows.size();

  // The body, as one sequence of pieces produced on demand.
  size_t part = 0, pos = 0;  // part: 0 prefix, 1.. rows (cycling), last suffix
  uint64_t rows_sent = 0;
  auto current = [&]() -> const std::string& {
    if (part == 0) return prefix;
    if (rows_sent < expected_rows) return rows[rows_sent % rows.size()];
    return suffix;
  };
  auto fill = [&](char* out, size_t n, uint64_t) {
    while (n > 0) {
      const std::string& s = current();
      const size_t k = std::min(n, s.size() - pos);
      std::memcpy(out, s.data() + pos, k);
      out += k;
      n -= k;
      pos += k;
      if (pos == s.size()) {
        pos = 0;
        if (part == 0) {
          part = 1;
        } else if (rows_sent < expected_rows) {
          ++rows_sent;
        }
      }
    }
  };
  HttpClient client("127.0.0.1", service_->port(), std::chrono::minutes(10));
  const uint64_t rss_before = PeakRss(service_->pid());
  auto r = client.RequestStreamed("POST", "/api/v1/upload/csv", total, fill,
                                  {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
                                   {"Authorization", "Bearer " + service_->admin_key()}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body.substr(0, 500);
  EXPECT_EQ(r->json()["accepted_rows"], expected_rows) << r->body.substr(0, 500);
  EXPECT_EQ(r->json()["rejected_rows"], 0);
  EXPECT_GE(r->json()["bytes"].get<uint64_t>(), uint64_t{2} << 30);
  const uint64_t peak = PeakRss(service_->pid());
  std::cout << "2 GiB upload: " << expected_rows << " rows, server peak RSS " << peak / (1 << 20) << " MiB (before "
            << rss_before / (1 << 20) << " MiB), " << r->json()["rows_per_second"] << " rows/s\n";
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, uint64_t{300} << 20) << "memory grew with the upload";
}

}  // namespace
}  // namespace threatd::testing
