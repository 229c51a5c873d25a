#include "cli/sweep_point.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "arch/config_system.h"
#include "cli/cli_common.h"
#include "cli/run_command.h"
#include "cli/sweep_expression.h"
#include "cli/train_command.h"
#include "sim/report/common.h"

namespace tessel::cli {

namespace {

namespace fs = std::filesystem;

// A point that breaks a constraint: not run, its reason recorded.
class PointSkipped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a row says of a `tessel run` point and of a `tessel train` one.
const std::vector<std::string> kRunFigures = {"total_cycles", "seconds",          "ttft_s",
                                              "tpot_s",       "tokens_per_s",     "utilization",
                                              "macs",         "dram_read_bytes",  "dram_write_bytes",
                                              "energy_pj",    "area_mm2"};
const std::vector<std::string> kTrainFigures = {"iteration_s", "tokens_per_s", "mfu",
                                                "hfu",         "energy_pj",    "energy_per_token_pj"};

// `args` parsed as `tessel <command>` parses them, with the point's hardware file; a bad one is
// an error naming the sweep file and `key`.
template <typename Flags, typename AddCommand>
Flags parse_flags(const SweepSpec& spec, const std::vector<std::string>& flag_args, const std::string& hardware_file,
                  const std::string& key, AddCommand add_command) {
  CLI::App app;
  Flags flags;
  add_command(app, flags);
  std::vector<std::string> args = {spec.command, "--" + spec.hardware_flag, hardware_file};
  args.insert(args.end(), flag_args.begin(), flag_args.end());
  std::vector<const char*> argv = {"tessel"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    throw FlagError(spec.file + ": key '" + key + "': " + error.what());
  }
  flags.quiet = true;
  flags.out.clear();
  return flags;
}

RunFlags run_flags(const SweepSpec& spec, const std::vector<std::string>& args, const std::string& hardware_file,
                   const std::string& key) {
  return parse_flags<RunFlags>(spec, args, hardware_file, key,
                               [](CLI::App& app, RunFlags& flags) { add_run_command(app, flags); });
}

TrainFlags train_flags(const SweepSpec& spec, const std::vector<std::string>& args, const std::string& hardware_file,
                       const std::string& key) {
  return parse_flags<TrainFlags>(spec, args, hardware_file, key,
                                 [](CLI::App& app, TrainFlags& flags) { add_train_command(app, flags); });
}

// Parses the point's flags (the point's hardware file is not read here).
void check_flags(const SweepSpec& spec, const std::vector<std::string>& args, const std::string& key) {
  if (spec.command == "train") {
    train_flags(spec, args, "point.yaml", key);
  } else {
    run_flags(spec, args, "point.yaml", key);
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

// The first constraint the point breaks, with the values it read; empty when it keeps them all.
std::string broken_constraint(const SweepSpec& spec, const YAML::Node& hardware, const sim::DeviceFacts& facts) {
  const auto lookup = [&](const std::string& name) -> std::optional<double> {
    if (name == "area_mm2") return facts.area_mm2;
    if (name == "clock_hz") return facts.clock_hz;
    if (name == "peak_macs_per_cycle") return facts.peak_macs_per_cycle(facts.peaks.front().dtype);
    if (name == "dram_capacity_bytes") {
      const std::optional<uint64_t> bytes = facts.dram_capacity_bytes();
      return bytes ? std::optional<double>(static_cast<double>(*bytes)) : std::nullopt;
    }
    if (name == "dram_bytes_per_cycle") return facts.dram_bytes_per_cycle();
    return number_at(hardware, name);
  };
  for (const std::string& constraint : spec.constraints) {
    if (holds(constraint, lookup)) continue;
    std::ostringstream reason;
    reason << "breaks " << constraint << " (";
    const std::vector<std::string> names = names_in(constraint);
    for (size_t i = 0; i < names.size(); ++i) reason << (i ? ", " : "") << names[i] << " = " << *lookup(names[i]);
    reason << ")";
    return reason.str();
  }
  return "";
}

// Runs the point's command on its hardware file; the summary names that file from the sweep's
// directory, so that a point's reports are the same wherever the sweep writes them.
sim::ReportBundle execute_point(const SweepSpec& spec, uint64_t point, const fs::path& hardware_file,
                                const YAML::Node& hardware, DevicePool& devices) {
  const std::string args_key = spec.command;
  const fs::path named = fs::path("points") / std::to_string(point) / hardware_file.filename();
  std::unique_ptr<sim::Device> own;
  sim::Device* device = nullptr;
  RunFlags run;
  if (spec.command == "run") run = run_flags(spec, spec.run_args_at(point), hardware_file.string(), args_key);
  if (spec.command == "run" && spec.hardware_flag == "arch") {
    device = &devices.device(hardware_file.string(), run.target.dataflow);
  } else if (!spec.constraints.empty()) {
    own = spec.hardware_flag == "arch" ? load_device(hardware_file.string())
                                       : sim::make_device(arch::load_system(hardware_file.string()).device);
    device = own.get();
  }
  const std::string broken = spec.constraints.empty() ? "" : broken_constraint(spec, hardware, device->facts());
  if (!broken.empty()) throw PointSkipped(broken);
  sim::ReportBundle reports = spec.command == "run"
                                  ? execute_run(run, spec.hardware_flag == "arch" ? device : nullptr)
                                  : execute_train(train_flags(spec, spec.run_args_at(point), hardware_file.string(),
                                                              args_key));
  if (spec.hardware_flag == "arch") {
    reports.summary["arch_file"] = named.string();
  } else if (reports.summary.contains("system")) {
    reports.summary["system"]["file"] = named.string();
  }
  return reports;
}

}  // namespace

const std::vector<std::string>& sweep_figures(const SweepSpec& spec) {
  return spec.command == "train" ? kTrainFigures : kRunFigures;
}

void check_point_flags(const SweepSpec& spec) {
  check_flags(spec, spec.run_args, spec.command);
  for (const SweepAxis& axis : spec.axes) {
    for (const std::string& value : axis.labels) {
      if (axis.run_flag.empty()) continue;
      std::vector<std::string> args = spec.run_args;
      append_run_flag(args, axis.run_flag, value);
      check_flags(spec, args, "vary." + axis.key + ": " + value);
    }
  }
}

std::vector<std::string> models_of(const SweepSpec& spec) {
  for (const SweepAxis& axis : spec.axes) {
    if (axis.run_flag == "model") return axis.labels;
  }
  const std::string model = spec.command == "train" ? train_flags(spec, spec.run_args, "point.yaml", "train").model
                                                    : run_flags(spec, spec.run_args, "point.yaml", "run").model;
  return model.empty() ? std::vector<std::string>{} : std::vector<std::string>{model};
}

std::string point_text(const SweepSpec& spec, uint64_t point) {
  const std::vector<size_t> index = spec.coordinates(point);
  std::string text;
  for (size_t i = 0; i < spec.axes.size(); ++i) {
    text += (i ? " " : "") + spec.axes[i].key + "=" + spec.axes[i].labels[index[i]];
  }
  return text;
}

void run_point(const SweepSpec& spec, uint64_t point, const SweepStore& store, DevicePool& devices, bool quiet) {
  if (!quiet) std::cerr << "[" << point + 1 << "/" << spec.points() << "] " << point_text(spec, point) << std::endl;
  const fs::path dir = store.scratch(point);
  try {
    YAML::Emitter yaml;
    const YAML::Node hardware = hardware_at(spec, point);
    yaml << hardware;
    const fs::path hardware_file = dir / (spec.hardware_flag + ".yaml");
    write_text(hardware_file, std::string(yaml.c_str()) + "\n");
    sim::write_report_files(execute_point(spec, point, hardware_file, hardware, devices), dir.string());
  } catch (const PointSkipped& skipped) {
    write_text(dir / "skipped.txt", std::string(skipped.what()) + "\n");
  } catch (const std::exception& error) {
    // Its files named from the sweep's directory, as the summaries name them: the table is the
    // same wherever the sweep writes.
    std::string message = error.what();
    const std::string named = (fs::path("points") / std::to_string(point)).string();
    for (size_t at; (at = message.find(dir.string())) != std::string::npos;) {
      message.replace(at, dir.string().size(), named);
    }
    write_text(dir / "error.txt", message + "\n");
  }
  store.commit(point);
}

}  // namespace tessel::cli
