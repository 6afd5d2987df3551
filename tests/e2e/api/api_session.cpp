#include "api_session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <pqxx/pqxx>

#include "threatd_process.h"

namespace threatd::testing {
namespace {

constexpr const char* kBoundary = "threatd-api-e2e-boundary-Q2l4TkFmSGVh";

std::string ReadFile(const std::string& path) {
  std::stringstream ss;
  ss << std::ifstream(path).rdbuf();
  return ss.str();
}

// Runs one statement outside a transaction (CREATE/DROP DATABASE need that).
bool PgExec(const std::string& url, const std::string& sql, std::string* error) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    tx.exec0(sql);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

}  // namespace

std::string BackendName(Backend backend) { return backend == Backend::kSqlite ? "sqlite" : "postgres"; }

ApiSession::~ApiSession() {
  if (process_) process_->Stop();
  process_.reset();
  if (!pg_database_.empty()) {
    std::string error;
    PgExec(pg_admin_url_, "DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)", &error);
  }
}

std::unique_ptr<ApiSession> ApiSession::Start(Backend backend, std::string* error, bool* skip) {
  static std::atomic<int> counter{0};
  *skip = false;
  std::unique_ptr<ApiSession> s(new ApiSession());
  s->backend_ = backend;
  s->unique_ = std::to_string(::getpid()) + "_" + std::to_string(counter++);
  s->process_ = std::make_unique<ThreatdProcess>();
  if (backend == Backend::kPostgres) {
    std::ifstream in(THREATD_TEST_PG_URL_FILE);
    std::getline(in, s->pg_admin_url_);
    if (s->pg_admin_url_.empty()) {
      *skip = true;
      *error = std::string("no test PostgreSQL (the CTest fixture 'postgres' writes its URL to ") +
               THREATD_TEST_PG_URL_FILE + "; run through ctest)";
      return nullptr;
    }
    s->pg_database_ = "threatd_api_e2e_" + s->unique_;
    if (!PgExec(s->pg_admin_url_, "CREATE DATABASE " + s->pg_database_, error)) return nullptr;
    const std::string url = s->pg_admin_url_.substr(0, s->pg_admin_url_.rfind('/') + 1) + s->pg_database_;
    s->process_->SetEnv("DATABASE_URL", url);
  }
  if (!s->process_->Start(error, std::chrono::seconds(60))) return nullptr;

  HttpClient client("127.0.0.1", s->process_->port());
  auto doc = client.Request("GET", "/api/v1/openapi.json");
  if (!doc.ok() || doc->status != 200 || !doc->json().is_object()) {
    *error = "GET /api/v1/openapi.json failed: " + (doc.ok() ? doc->body.substr(0, 300) : doc.status().ToString());
    return nullptr;
  }
  s->contract_ = std::make_unique<OpenApiContract>(doc->json());
  s->exercised_.insert("GET /api/v1/openapi.json");
  for (auto [role, out] : {std::pair{"viewer", &s->viewer_key_}, std::pair{"operator", &s->operator_key_}}) {
    auto r = s->Call("POST", "/api/v1/keys", As::kAdmin,
                     nlohmann::json{{"name", std::string("e2e-") + role}, {"role", role}}.dump());
    if (r.status != 201) {
      *error = "creating the " + std::string(role) + " key failed: " + r.body;
      return nullptr;
    }
    *out = r.json()["key"];
  }
  return s;
}

const std::string& ApiSession::key(As who) const {
  static const std::string kNone;
  switch (who) {
    case As::kViewer: return viewer_key_;
    case As::kOperator: return operator_key_;
    case As::kAdmin: return process_->admin_key();
    default: return kNone;
  }
}

uint16_t ApiSession::port() const { return process_->port(); }

TestResponse ApiSession::Call(const std::string& method, const std::string& target, As who, const std::string& body,
                              const std::string& content_type) {
  HttpClient client("127.0.0.1", port(), std::chrono::seconds(60));
  Headers headers;
  if (who != As::kAnonymous) headers.emplace_back("Authorization", "Bearer " + key(who));
  if (!body.empty() || method == "POST" || method == "PATCH") headers.emplace_back("Content-Type", content_type);
  auto r = client.Request(method, target, body, headers);
  if (!r.ok()) {
    ADD_FAILURE() << method << " " << target << ": " << r.status().ToString();
    return {};
  }
  for (const auto& m : contract_->Check(method, target, r->status, r->Header("content-type"), r->body))
    ADD_FAILURE() << "OpenAPI contract: " << m << "\n  body: " << r->body.substr(0, 600);
  if (r->status != 401 && r->status != 403) exercised_.insert(contract_->OperationFor(method, target));
  return std::move(r).value();
}

void ApiSession::ExpectRoles(const std::string& method, const std::string& target, As min, const std::string& body) {
  auto anon = Call(method, target, As::kAnonymous, body);
  EXPECT_EQ(anon.status, 401) << "anonymous " << method << " " << target << ": " << anon.body.substr(0, 300);
  if (min == As::kOperator || min == As::kAdmin) {
    auto viewer = Call(method, target, As::kViewer, body);
    EXPECT_EQ(viewer.status, 403) << "viewer " << method << " " << target << ": " << viewer.body.substr(0, 300);
  }
  if (min == As::kAdmin) {
    auto op = Call(method, target, As::kOperator, body);
    EXPECT_EQ(op.status, 403) << "operator " << method << " " << target << ": " << op.body.substr(0, 300);
  }
}

std::string ApiSession::Multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                                  const std::string& file_field, const std::string& filename,
                                  const std::string& content) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n";
    body += value + "\r\n";
  }
  body += "--" + std::string(kBoundary) + "\r\n";
  body += "Content-Disposition: form-data; name=\"" + file_field + "\"; filename=\"" + filename + "\"\r\n";
  body += "Content-Type: application/octet-stream\r\n\r\n" + content;
  body += "\r\n--" + std::string(kBoundary) + "--\r\n";
  return body;
}

std::string ApiSession::MultipartType() { return std::string("multipart/form-data; boundary=") + kBoundary; }

std::string ApiSession::SimulateCsv(int count, const std::string& mix, int seed) {
  const std::string path = process_->data_dir() + "/sim-" + std::to_string(seed) + ".csv";
  auto r = process_->Run({"simulate", "--profile", ThreatdProcess::SourceDir() + "/models/traffic_profile.json.gz",
                          "--count", std::to_string(count), "--mix", mix, "--seed", std::to_string(seed), "--out",
                          path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ReadFile(path);
}

TestResponse ApiSession::UploadCsv(const std::string& filename, const std::string& csv) {
  return Call("POST", "/api/v1/upload/csv", As::kOperator, Multipart({}, "file", filename, csv), MultipartType());
}

bool ApiSession::WaitFor(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> ApiSession::Uncovered() const {
  std::vector<std::string> out;
  for (const auto& op : contract_->Operations())
    if (!exercised_.contains(op)) out.push_back(op);
  return out;
}

}  // namespace threatd::testing
