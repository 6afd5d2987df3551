// The deployment files, parsed (no Docker engine here): compose structure,
// ports, listeners, health checks, depends_on conditions, the topics the
// one-shot service creates, the Dockerfile's stages, user and health check -
// and that every variable set for threatd (compose environment, Dockerfile
// ENV, .env.example) is a threatd setting whose value threatd accepts.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/keys.h"
#include "config/loader.h"
#include "config/options.h"

namespace threatd {
namespace {

std::string SourceDir() { return std::getenv("THREATD_SOURCE_DIR") ? std::getenv("THREATD_SOURCE_DIR") : "."; }

std::string ReadFile(const std::string& name) {
  std::ifstream in(SourceDir() + "/" + name);
  EXPECT_TRUE(in) << "missing " << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What docker compose does with ${VAR:-default} and ${VAR} when VAR is unset
// (the defaults must make `docker compose up` work without a .env file), and
// $$ -> $.
std::string Interpolate(const std::string& text, std::set<std::string>* without_default = nullptr) {
  static const std::regex var(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\})");
  std::string out;
  std::string rest = text;
  std::smatch m;
  while (std::regex_search(rest, m, var)) {
    std::string prefix = m.prefix().str();
    if (!prefix.empty() && prefix.back() == '$') {  // $${...}: an escaped dollar, not a variable
      out += prefix.substr(0, prefix.size() - 1) + "$" + m.str(0).substr(1);
    } else {
      out += prefix + (m[2].matched ? m[3].str() : std::string());
      if (!m[2].matched && without_default) without_default->insert(m[1].str());
    }
    rest = m.suffix().str();
  }
  return out + rest;
}

// Every ${VAR...} a text refers to (not $${...}).
std::set<std::string> Referenced(const std::string& text) {
  static const std::regex var(R"((^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*))");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), var); it != std::sregex_iterator(); ++it)
    out.insert((*it)[2].str());
  return out;
}

// Compose interpolates the values of the parsed YAML (so "${X:-*}" stays a string).
void InterpolateScalars(YAML::Node node) {
  if (node.IsScalar()) {
    node = Interpolate(node.Scalar());
  } else if (node.IsSequence()) {
    for (auto child : node) InterpolateScalars(child);
  } else if (node.IsMap()) {
    for (auto kv : node) InterpolateScalars(kv.second);
  }
}

YAML::Node LoadCompose(const std::string& file) {
  YAML::Node root = YAML::Load(ReadFile(file));
  InterpolateScalars(root);
  return root;
}

std::map<std::string, std::string> Environment(const YAML::Node& service) {
  std::map<std::string, std::string> env;
  for (const auto& kv : service["environment"]) env[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return env;
}

std::set<std::string> Ports(const YAML::Node& service) {
  std::set<std::string> out;
  for (const auto& p : service["ports"]) out.insert(p.as<std::string>());
  return out;
}

void ExpectHealthCheck(const YAML::Node& service, const std::string& name, const std::string& must_contain) {
  const YAML::Node hc = service["healthcheck"];
  ASSERT_TRUE(hc && hc["test"]) << name << " has no health check";
  std::string test;
  for (const auto& part : hc["test"]) test += part.as<std::string>() + " ";
  EXPECT_NE(test.find(must_contain), std::string::npos) << name << " health check: " << test;
  EXPECT_TRUE(hc["interval"] && hc["retries"]) << name << " health check needs an interval and retries";
}

std::string DependsOn(const YAML::Node& service, const std::string& on) {
  const YAML::Node d = service["depends_on"][on];
  return d && d["condition"] ? d["condition"].as<std::string>() : std::string();
}

// "topic <name> <partitions> ..." lines of kafka-init's script.
std::map<std::string, int> CreatedTopics(const YAML::Node& init) {
  std::string script;
  for (const auto& part : init["command"]) script += part.as<std::string>() + "\n";
  std::map<std::string, int> topics;
  static const std::regex line(R"(^\s*topic\s+(\S+)\s+(\d+))");
  std::istringstream in(script);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) topics[m[1].str()] = std::stoi(m[2].str());
  }
  return topics;
}

// Loads threatd's options from `env` exactly as the service would at start.
Result<config::Options> LoadAsThreatd(const std::map<std::string, std::string>& env, const std::string& env_file = "") {
  config::LoadRequest r;
  r.env_file = env_file;
  r.env_file_explicit = !env_file.empty();
  r.environment = env;
  return config::Load(r);
}

void ExpectInfrastructure(const YAML::Node& compose, const std::string& file) {
  SCOPED_TRACE(file);
  const YAML::Node services = compose["services"];
  EXPECT_FALSE(services["zookeeper"]) << "KRaft: no ZooKeeper";

  const YAML::Node pg = services["postgres"];
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg["image"].as<std::string>().rfind("postgres:15", 0), 0u);
  EXPECT_TRUE(Ports(pg).count("5432:5432"));
  ExpectHealthCheck(pg, "postgres", "pg_isready");

  const YAML::Node kafka = services["kafka"];
  ASSERT_TRUE(kafka);
  EXPECT_EQ(kafka["image"].as<std::string>().rfind("apache/kafka:", 0), 0u);
  auto env = Environment(kafka);
  for (const auto& [name, value] : env) EXPECT_EQ(name.find("ZOOKEEPER"), std::string::npos) << name;
  EXPECT_NE(env["KAFKA_PROCESS_ROLES"].find("broker"), std::string::npos);
  EXPECT_NE(env["KAFKA_PROCESS_ROLES"].find("controller"), std::string::npos);
  const std::string advertised = env["KAFKA_ADVERTISED_LISTENERS"];
  EXPECT_NE(advertised.find("PLAINTEXT://kafka:9092"), std::string::npos) << advertised;
  EXPECT_NE(advertised.find("PLAINTEXT_HOST://localhost:29092"), std::string::npos) << advertised;
  EXPECT_TRUE(Ports(kafka).count("29092:29092")) << "the host listener must be published on the same port";
  const std::string listeners = env["KAFKA_LISTENERS"];
  for (const char* l : {"PLAINTEXT://0.0.0.0:9092", "PLAINTEXT_HOST://0.0.0.0:29092", "CONTROLLER://0.0.0.0:9093"})
    EXPECT_NE(listeners.find(l), std::string::npos) << l;
  for (const char* name : {"PLAINTEXT:", "PLAINTEXT_HOST:", "CONTROLLER:"})
    EXPECT_NE(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].find(name), std::string::npos) << name;
  EXPECT_EQ(env["KAFKA_CONTROLLER_QUORUM_VOTERS"], "1@kafka:9093");
  EXPECT_EQ(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "1") << "one broker";
  EXPECT_EQ(env["CLUSTER_ID"].size(), 22u) << "a base64 UUID";
  ExpectHealthCheck(kafka, "kafka", "9092");

  const YAML::Node init = services["kafka-init"];
  ASSERT_TRUE(init);
  EXPECT_EQ(DependsOn(init, "kafka"), "service_healthy");
  const auto topics = CreatedTopics(init);
  const config::KafkaSection defaults;
  for (const std::string& flows : {defaults.topic_realtime, defaults.topic_external}) {
    ASSERT_TRUE(topics.count(flows)) << flows;
    EXPECT_GT(topics.at(flows), 1) << flows << " needs partitions to scale out";
    EXPECT_TRUE(topics.count(flows + ".dlq")) << flows << ".dlq";
  }
  EXPECT_TRUE(topics.count(defaults.topic_predictions));
  EXPECT_TRUE(topics.count(defaults.topic_actions));
  EXPECT_EQ(compose["volumes"].IsMap(), true);
  EXPECT_TRUE(compose["volumes"]["postgres_data"]);
}

TEST(DeployFilesTest, DevComposeIsInfrastructureOnly) {
  const YAML::Node dev = LoadCompose("docker-compose.dev.yml");
  ExpectInfrastructure(dev, "docker-compose.dev.yml");
  std::set<std::string> names;
  for (const auto& s : dev["services"]) names.insert(s.first.as<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"postgres", "kafka", "kafka-init"}));
}

TEST(DeployFilesTest, FullComposeRunsThreatdOnHealthyInfrastructureWithSettingsThreatdUnderstands) {
  const YAML::Node full = LoadCompose("docker-compose.full.yml");
  ExpectInfrastructure(full, "docker-compose.full.yml");
  const YAML::Node dev = LoadCompose("docker-compose.dev.yml");
  for (const char* s : {"postgres", "kafka", "kafka-init"})
    EXPECT_EQ(YAML::Dump(full["services"][s]), YAML::Dump(dev["services"][s])) << s << " differs between the files";

  const YAML::Node t = full["services"]["threatd"];
  ASSERT_TRUE(t);
  EXPECT_EQ(t["build"]["context"].as<std::string>(), ".");
  EXPECT_EQ(DependsOn(t, "postgres"), "service_healthy");
  EXPECT_EQ(DependsOn(t, "kafka"), "service_healthy");
  EXPECT_EQ(DependsOn(t, "kafka-init"), "service_completed_successfully");

  const auto env = Environment(t);
  for (const auto& [name, value] : env)
    EXPECT_NE(config::FindKeyByEnv(name), nullptr) << name << " is not a threatd setting (src/config/keys.cpp)";
  auto options = LoadAsThreatd(env);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->kafka.bootstrap_servers, "kafka:9092") << "the containers' listener";
  const auto pg = Environment(full["services"]["postgres"]);
  EXPECT_EQ(options->EffectiveDatabaseUrl(), "postgresql://" + pg.at("POSTGRES_USER") + ":" + pg.at("POSTGRES_PASSWORD") +
                                                 "@postgres:5432/" + pg.at("POSTGRES_DB"));
  const std::string port = std::to_string(options->http.port);
  EXPECT_EQ(options->http.host, "0.0.0.0");
  EXPECT_TRUE(Ports(t).count("8000:" + port)) << "published port must reach the HTTP port";
  ExpectHealthCheck(t, "threatd", "http://127.0.0.1:" + port + "/health");

  bool data_volume = false;
  for (const auto& v : t["volumes"]) {
    const std::string spec = v.as<std::string>();
    const auto colon = spec.find(':');
    if (spec.substr(colon + 1) == options->data_dir) {
      data_volume = true;
      EXPECT_TRUE(full["volumes"][spec.substr(0, colon)]) << "named volume " << spec.substr(0, colon) << " not declared";
    }
  }
  EXPECT_TRUE(data_volume) << "data_dir " << options->data_dir << " must be a volume";
}

TEST(DeployFilesTest, ComposeVariablesHaveDefaultsAndEnvExampleHoldsOnlyKnownOrUsedVariables) {
  std::set<std::string> referenced;
  for (const char* file : {"docker-compose.dev.yml", "docker-compose.full.yml"}) {
    std::set<std::string> without_default;
    Interpolate(ReadFile(file), &without_default);
    EXPECT_TRUE(without_default.empty()) << file << ": ${" << *without_default.begin() << "} has no default";
    for (const auto& v : Referenced(ReadFile(file))) referenced.insert(v);
  }

  // Every variable of .env.example, also the commented-out examples.
  const std::string example = ReadFile(".env.example");
  static const std::regex assignment(R"(^#?\s*([A-Z][A-Z0-9_]*)=(.*)$)");
  std::istringstream in(example);
  std::set<std::string> names;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, assignment)) continue;
    const std::string name = m[1].str();
    names.insert(name);
    if (config::FindKeyByEnv(name) != nullptr) continue;  // a threatd setting
    EXPECT_FALSE(name.starts_with("THREATD_")) << name << " is not a threatd setting: threatd would refuse to start";
    EXPECT_TRUE(referenced.count(name)) << name << " is neither a threatd setting nor used by a compose file";
  }
  EXPECT_TRUE(names.count("POSTGRES_PASSWORD"));
  EXPECT_TRUE(names.count("THREATD_KAFKA_BOOTSTRAP_SERVERS"));
  for (const auto& v : referenced) EXPECT_TRUE(names.count(v)) << "${" << v << "} is not documented in .env.example";

  // threatd reads .env from its working directory: the example must load as it is.
  auto options = LoadAsThreatd({}, SourceDir() + "/.env.example");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
}

TEST(DeployFilesTest, DockerfileBuildsWithTheProjectScriptsAndRunsUnprivilegedWithAHealthCheck) {
  const std::string text = ReadFile("Dockerfile");
  // Logical lines (joined at trailing backslashes), comments dropped.
  std::vector<std::string> lines;
  std::string current;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (current.empty() && (l.empty() || l[0] == '#')) continue;
    if (!l.empty() && l.back() == '\\') {
      current += l.substr(0, l.size() - 1) + " ";
      continue;
    }
    lines.push_back(current + l);
    current.clear();
  }
  std::vector<std::vector<std::string>> stages;  // instructions per FROM
  for (const auto& l : lines) {
    if (l.rfind("FROM ", 0) == 0) stages.emplace_back();
    ASSERT_FALSE(stages.empty()) << "instruction before FROM: " << l;
    stages.back().push_back(l);
  }
  ASSERT_GE(stages.size(), 2u) << "multi-stage";
  EXPECT_EQ(stages.front().front(), "FROM debian:12 AS build");
  EXPECT_EQ(stages.back().front().rfind("FROM debian:bookworm-slim", 0), 0u);
  auto stage_has = [](const std::vector<std::string>& stage, const std::string& what) {
    for (const auto& l : stage)
      if (l.find(what) != std::string::npos) return true;
    return false;
  };
  const auto& build = stages.front();
  EXPECT_TRUE(stage_has(build, "bash scripts/setup.sh"));
  EXPECT_TRUE(stage_has(build, "cmake --preset release"));
  EXPECT_TRUE(stage_has(build, "cmake --build --preset release --target threatd"));
  EXPECT_TRUE(stage_has(build, "npm ci")) << "the bundled API docs (Swagger UI) come from npm";

  const auto& runtime = stages.back();
  EXPECT_TRUE(stage_has(runtime, "COPY --from=build /src/build/release/share/threatd"))
      << "the assets (API docs, default models, traffic profile) ship next to the binary";
  std::string user, healthcheck, expose;
  std::map<std::string, std::string> env;
  static const std::regex env_pair(R"(([A-Z][A-Z0-9_]*)=(\S+))");
  for (const auto& l : runtime) {
    if (l.rfind("USER ", 0) == 0) user = l.substr(5);
    if (l.rfind("HEALTHCHECK ", 0) == 0) healthcheck = l;
    if (l.rfind("EXPOSE ", 0) == 0) expose = l.substr(7);
    if (l.rfind("ENV ", 0) == 0) {
      const std::string body = l.substr(4);
      for (auto it = std::sregex_iterator(body.begin(), body.end(), env_pair); it != std::sregex_iterator(); ++it)
        env[(*it)[1].str()] = (*it)[2].str();
    }
  }
  EXPECT_FALSE(user.empty()) << "the runtime stage needs a USER";
  EXPECT_NE(user, "root");
  EXPECT_NE(user, "0");
  env.erase("DEBIAN_FRONTEND");  // apt's, not threatd's
  for (const auto& [name, value] : env) EXPECT_NE(config::FindKeyByEnv(name), nullptr) << name;
  auto options = LoadAsThreatd(std::map<std::string, std::string>(env.begin(), env.end()));
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(expose, std::to_string(options->http.port));
  EXPECT_NE(healthcheck.find("http://127.0.0.1:" + std::to_string(options->http.port) + "/health"), std::string::npos)
      << healthcheck;

  // Every library setup.sh installs headers for has its runtime package in the image.
  const std::string setup = ReadFile("scripts/setup.sh");
  static const std::regex dev(R"(\b((lib[a-z0-9+.-]+?)|zlib1g)-dev\b)");
  const std::set<std::string> header_only = {"libboost", "libcli11", "libgtest", "libgmock", "libbenchmark"};
  for (auto it = std::sregex_iterator(setup.begin(), setup.end(), dev); it != std::sregex_iterator(); ++it) {
    const std::string stem = (*it)[1].str();
    if (header_only.count(stem)) continue;
    EXPECT_TRUE(stage_has(runtime, " " + stem)) << stem << "-dev is built against but no " << stem << "* is installed";
  }
}

}  // namespace
}  // namespace threatd
