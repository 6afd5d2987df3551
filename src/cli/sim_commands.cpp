// `threatd profile` (per-class traffic statistics from labelled flows) and
// `threatd simulate` (synthetic labelled flows from a profile).
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/report.h"
#include "common/clock.h"
#include "flow/features.h"
#include "flow/table_loader.h"
#include "sim/flow_generator.h"
#include "sim/flow_writer.h"
#include "ml/bundle.h"
#include "sim/profile_builder.h"
#include "sim/spread_calibration.h"
#include "sim/traffic_profile.h"

namespace threatd::cli {
namespace {

struct ProfileArgs {
  std::vector<std::string> data;
  std::string out;
  std::string label_column = "Label";
  std::string features = "common";
  size_t quantiles = 32;
  std::vector<std::string> calibrate_with;  // detector, classifier
};

struct SimulateArgs {
  std::string profile;
  uint64_t count = 0;
  std::string rate = "100";
  std::string mix;
  std::string format = "csv";
  uint64_t seed = 1;
  std::string out;
  std::string start_time;
  bool realtime = false;
  double spread = 1.0;
};

std::string CreatedAt() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
    return FormatIso8601(Clock::WallTime(std::chrono::seconds(std::strtoll(epoch, nullptr, 10))));
  }
  return FormatIso8601(Clock::System().Now());
}

int Profile(const ProfileArgs& a) {
  flow::LoadOptions lo;
  lo.label_column = a.label_column;
  lo.mode = flow::LoadMode::kCicFlowMeter;
  if (a.features == "common") lo.required_features = flow::CommonFeatureNames();
  auto data = flow::LoadDataset(a.data, lo);
  if (!data.ok()) return ReportError(data.status(), 1);
  sim::ProfileOptions po;
  po.quantiles = a.quantiles;
  po.created_at = CreatedAt();
  sim::ProfileReport report;
  auto profile = sim::BuildTrafficProfile(*data, po, &report);
  if (!profile.ok()) return ReportError(profile.status(), 1);
  if (!a.calibrate_with.empty()) {
    auto detector = ml::ReadBundleFile(a.calibrate_with[0]);
    if (!detector.ok()) return ReportError(detector.status(), 1);
    auto classifier = ml::ReadBundleFile(a.calibrate_with[1]);
    if (!classifier.ok()) return ReportError(classifier.status(), 1);
    auto calibration = sim::CalibrateSpread(*profile, *detector, *classifier);
    if (!calibration.ok()) return ReportError(calibration.status(), 1);
    for (const auto& c : *calibration) {
      fmt::print(stderr, "  {:<28} spread {:.2f}  recognised {:.3f}\n", c.label, c.spread, c.accuracy);
    }
  }
  Status s = sim::WriteTrafficProfile(*profile, a.out);
  if (!s.ok()) return ReportError(s, 1);
  fmt::print(stderr, "profile: {} rows, {} classes, {} features -> {}\n", data->rows(), profile->classes.size(),
             profile->features.size(), a.out);
  for (const auto& skipped : report.skipped_classes) fmt::print(stderr, "  skipped (too few rows): {}\n", skipped);
  return 0;
}

// "100", "100/s", "2.5/s" -> flows per second.
Result<double> ParseRate(const std::string& text) {
  std::string number = text;
  if (number.size() > 2 && number.compare(number.size() - 2, 2, "/s") == 0) number.resize(number.size() - 2);
  char* end = nullptr;
  const double rate = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !(rate > 0)) {
    return Status::InvalidArgument(fmt::format("--rate '{}' is not a positive number of flows per second", text),
                                   "write e.g. --rate 200 or --rate 200/s");
  }
  return rate;
}

int Simulate(const SimulateArgs& a) {
  auto profile = sim::ReadTrafficProfile(a.profile);
  if (!profile.ok()) return ReportError(profile.status(), 1);
  sim::GeneratorOptions o;
  o.seed = a.seed;
  o.spread = a.spread;
  auto rate = ParseRate(a.rate);
  if (!rate.ok()) return ReportError(rate.status(), 2);
  o.rate_per_second = *rate;
  if (!a.mix.empty()) {
    auto mix = sim::ParseMix(a.mix);
    if (!mix.ok()) return ReportError(mix.status(), 2);
    o.mix = std::move(*mix);
  }
  if (!a.start_time.empty()) {
    Clock::WallTime start;
    if (!ParseIso8601(a.start_time, &start)) {
      return ReportError(Status::InvalidArgument(fmt::format("--start-time '{}' is not ISO-8601", a.start_time),
                                                 "write e.g. 2026-01-01T00:00:00Z"),
                         2);
    }
    o.start_time_us = std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count();
  }
  auto shared = std::make_shared<const sim::TrafficProfile>(std::move(*profile));
  auto generator = sim::FlowGenerator::Create(shared, std::move(o));
  if (!generator.ok()) return ReportError(generator.status(), 2);

  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) return ReportError(Status::InvalidArgument(fmt::format("cannot write '{}'", a.out)), 1);
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  sim::FlowWriter writer(out, a.format == "jsonl" ? sim::OutputFormat::kJsonLines : sim::OutputFormat::kCsv,
                         shared->features);
  const auto wall_start = std::chrono::steady_clock::now();
  int64_t first_us = 0;
  for (uint64_t i = 0; i < a.count; ++i) {
    const flow::FlowRecord record = generator->Next();
    if (a.realtime) {  // pace output to the simulated timestamps
      if (i == 0) first_us = record.ids.timestamp_us;
      std::this_thread::sleep_until(wall_start + std::chrono::microseconds(record.ids.timestamp_us - first_us));
    }
    writer.Write(record);
    if (a.realtime) out.flush();
  }
  out.flush();
  if (!out) return ReportError(Status::Internal("write failed", "check free disk space or the pipe reader"), 1);
  return 0;
}

}  // namespace

void RegisterSimCommands(CLI::App& root, int& exit_code) {
  auto profile_args = std::make_shared<ProfileArgs>();
  CLI::App* profile = root.add_subcommand("profile", "Derive per-class traffic statistics from labelled flows");
  profile->add_option("--data", profile_args->data, "Labelled CICFlowMeter CSV/CSV.gz files")->required()
      ->check(CLI::ExistingFile);
  profile->add_option("--out", profile_args->out, "Profile path (.json or .json.gz)")->required();
  profile->add_option("--label-column", profile_args->label_column, "Class label column")->capture_default_str();
  profile->add_option("--features", profile_args->features,
                      "common (what the default models use) | all (every canonical feature of the first file)")
      ->capture_default_str()->check(CLI::IsMember({"common", "all"}));
  profile->add_option("--quantiles", profile_args->quantiles, "Quantile sketch intervals per feature")
      ->capture_default_str()->check(CLI::Range(2, 256));
  profile->add_option("--calibrate-with", profile_args->calibrate_with,
                      "DETECTOR CLASSIFIER bundles: pick each class's sampling spread so they recognise it")
      ->expected(2)->check(CLI::ExistingFile);
  profile->callback([profile_args, &exit_code] { exit_code = Profile(*profile_args); });

  auto sim_args = std::make_shared<SimulateArgs>();
  CLI::App* simulate = root.add_subcommand("simulate", "Generate labelled synthetic flows from a traffic profile");
  simulate->add_option("--profile", sim_args->profile, "Traffic profile (e.g. models/traffic_profile.json.gz)")
      ->required();
  simulate->add_option("--count", sim_args->count, "Number of flows")->required();
  simulate->add_option("--rate", sim_args->rate, "Flows per second of simulated time, e.g. 200/s")
      ->capture_default_str();
  simulate->add_option("--mix", sim_args->mix, "Class weights, e.g. \"BENIGN=0.7,DDoS=0.1,Portscan=0.2\" "
                                               "(default: BENIGN 0.8, attacks share the rest)");
  simulate->add_option("--format", sim_args->format, "csv | jsonl")->capture_default_str()
      ->check(CLI::IsMember({"csv", "jsonl"}));
  simulate->add_option("--seed", sim_args->seed, "Random seed (same seed, same flows)")->capture_default_str();
  simulate->add_option("--out", sim_args->out, "Output file (default: stdout)");
  simulate->add_option("--start-time", sim_args->start_time, "First timestamp, ISO-8601 (default 2026-01-01T00:00:00Z)");
  simulate->add_flag("--realtime", sim_args->realtime, "Emit flows at --rate in wall-clock time");
  simulate->add_option("--spread", sim_args->spread, "Latent scale in (0, 1]; < 1 gives more typical flows")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  simulate->callback([sim_args, &exit_code] { exit_code = Simulate(*sim_args); });
}

}  // namespace threatd::cli
