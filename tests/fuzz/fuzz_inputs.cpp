// Seeded mutation fuzzing of every input reader: architecture YAML of each kind, SCALE-Sim .cfg,
// system YAML, topology CSV, HF config.json, sweep files, mapping JSON and measurement CSVs.
// Each input is a shipped file mutated a few times (a number swapped for an extreme, a line
// dropped, doubled or swapped, a byte flipped, the text cut short, a token moved); the reader
// must accept it or reject it with an exception whose message names the file. Architectures
// that load also run a small GEMM. A crash or a hang kills the run and leaves the input being
// read in --work/<reader>/ to replay. Prints, per reader, the inputs tried, accepted and
// rejected, and the rejections that named no place, the file and a line or key (the first kept as
// input.*.unnamed); exits 1 if there were any.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli/placement_file.h"
#include "cli/run_command.h"
#include "cli/sweep_spec.h"
#include "cli/validation/measurements.h"
#include "mapper/mapping_json.h"
#include "sim/device.h"
#include "workloads/hf_config.h"
#include "workloads/quant_recipe.h"
#include "workloads/topology_csv.h"

namespace {

namespace fs = std::filesystem;
using namespace tessel;

struct Target {
  std::string name;
  std::string extension;  // the readers choose by it
  std::vector<std::string> seeds;
  std::function<void(const std::string&)> read;
};

struct Tally {
  uint64_t tried = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t unnamed = 0;
  std::string first_unnamed;
};

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
}

std::vector<std::string> files_in(const fs::path& directory, const std::string& extension) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(directory)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream stream(text);
  while (std::getline(stream, line)) lines.push_back(line);
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// Values that have broken readers and models before: zero, negatives, the edges of the integer
// types, overflow, underflow, not-a-number and words where numbers go.
const char* const kExtremes[] = {"0",    "-1",  "1e308", "-1e308", "1e-308", "18446744073709551615",
                                 "4294967296", "nan", "inf", "0.5", "3", "1e9", "", "null", "[]", "{}", "x"};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : random_(seed) {}

  std::string mutate(const std::string& seed) {
    std::string text = seed;
    const int rounds = 1 + static_cast<int>(pick(3));
    for (int i = 0; i < rounds; ++i) text = once(text);
    return text;
  }

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(random_); }

  std::string once(const std::string& text) {
    std::vector<std::string> lines = lines_of(text);
    if (lines.empty()) return "x";
    const size_t at = pick(lines.size());
    switch (pick(7)) {
      case 0:
        return swap_number(text);
      case 1:
        lines.erase(lines.begin() + static_cast<long>(at));
        return joined(lines);
      case 2:
        lines.insert(lines.begin() + static_cast<long>(at), lines[at]);
        return joined(lines);
      case 3:
        std::swap(lines[at], lines[pick(lines.size())]);
        return joined(lines);
      case 4: {
        std::string flipped = text;
        flipped[pick(flipped.size())] = static_cast<char>(pick(256));
        return flipped;
      }
      case 5:
        return text.substr(0, pick(text.size() + 1));
      default:
        return swap_number(swap_number(text));
    }
  }

  // One number of the text (a run of digits, signs, dots and exponents) replaced by an extreme.
  std::string swap_number(const std::string& text) {
    std::vector<std::pair<size_t, size_t>> numbers;
    for (size_t i = 0; i < text.size();) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
        ++i;
        continue;
      }
      size_t start = i > 0 && (text[i - 1] == '-' || text[i - 1] == '.') ? i - 1 : i;
      while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                                 text[i] == 'e' || text[i] == 'E' || text[i] == '-' || text[i] == '+')) {
        ++i;
      }
      numbers.emplace_back(start, i - start);
    }
    if (numbers.empty()) return text;
    const auto [start, length] = numbers[pick(numbers.size())];
    std::string swapped = text;
    swapped.replace(start, length, kExtremes[pick(std::size(kExtremes))]);
    return swapped;
  }

  std::mt19937_64 random_;
};

// A rejection names its place when it names the file and, after it, a line (file:12:) or a key,
// field or column; a file that is not what its reader reads at all may name the file alone.
bool names_place(const std::string& message, const std::string& file) {
  const size_t at = message.find(file);
  if (at == std::string::npos) return false;
  const std::string rest = message.substr(at + file.size());
  if (rest.size() > 1 && rest[0] == ':' && std::isdigit(static_cast<unsigned char>(rest[1]))) return true;
  for (const char* what : {"key '", "field '", "column '", "row ", "line ", "cannot open", "not valid", "empty",
                           "top level", "must be a"}) {
    if (rest.find(what) != std::string::npos) return true;
  }
  return false;
}

sim::RunSettings timing_only() {
  sim::RunSettings settings;
  settings.check = sim::CheckMode::Never;
  return settings;
}

// A loaded architecture must also run: a 32×48×64 linear in its default format.
void load_and_run(const std::string& path) {
  const std::unique_ptr<sim::Device> device = sim::make_device(arch::load_arch(path));
  const workloads::Op gemm("fuzz", workloads::OpKind::Linear, workloads::LinearShape{32, 48, 64});
  try {
    device->run(gemm, device->configure(timing_only()));
  } catch (const std::exception&) {
    // The device refuses the op (a format it lacks, buffers too small to map it): the run's
    // refusal, not the reader's. A crash still ends the fuzzing.
  }
}

std::vector<Target> targets(const fs::path& source) {
  const auto in = [&](const std::string& directory, const std::string& extension) {
    return files_in(source / directory, extension);
  };
  std::vector<std::string> hf;
  for (const std::string& file : in("tests/data/hf", ".json")) {
    if (file.find("/bad/") == std::string::npos) hf.push_back(file);
  }
  std::vector<std::string> arch_files = in("configs/arch", ".yaml");
  arch_files.push_back((source / "tests/data/configs/minimal.yaml").string());
  return {
      {"arch-yaml", ".yaml", arch_files, load_and_run},
      {"scalesim-cfg", ".cfg", in("configs/scalesim", ".cfg"), load_and_run},
      {"system-yaml", ".yaml", in("configs/systems", ".yaml"), [](const std::string& p) { arch::load_system(p); }},
      {"topology-csv", ".csv", in("configs/topologies", ".csv"),
       [](const std::string& p) { workloads::read_topology_csv(p); }},
      {"hf-config-json", ".json", hf, [](const std::string& p) { workloads::read_hf_config(p); }},
      {"sweep-yaml", ".yaml", in("configs/sweeps", ".yaml"), [](const std::string& p) { cli::read_sweep_spec(p); }},
      {"placement-yaml", ".yaml", in("configs/placements", ".yaml"),
       [](const std::string& p) {
         cli::ServeFlags flags;
         flags.placement = p;
         cli::with_placement_file(flags);
       }},
      {"quant-yaml", ".yaml", in("configs/quant", ".yaml"), [](const std::string& p) { workloads::parse_quant(p); }},
      {"mapping-json", ".json", in("tests/data/mappings", ".json"),
       [](const std::string& p) { mapper::read_mapping_file(p); }},
      {"measurements-csv", ".csv", in("tests/data/validation", ".csv"),
       [](const std::string& p) { validation::read_measurements(p); }},
  };
}

// `tessel run` command lines, mutated: a value swapped for an extreme, an argument dropped or
// doubled, two swapped. Each must run, or be refused: by the parser (its messages name the flag
// or argument), or naming a flag (a message with "--") or a value of the command (a file, a
// model). Runs are timing-only unless a mutation drops --no-check; the workloads are tiny.
const std::vector<std::vector<std::string>> kRunCommands = {
    {"--arch", "configs/arch/array_8x8.yaml", "--gemm", "16,24,8", "--no-check"},
    {"--arch", "configs/arch/tpu_v4_like.yaml", "--model", "tiny", "--seq", "16", "--batch", "2", "--no-check"},
    {"--arch", "configs/arch/a100_sxm.yaml", "--model", "tiny", "--phase", "decode", "--kv-len", "32", "--tp", "2",
     "--no-check"},
    {"--arch", "configs/arch/a100_sxm.yaml", "--model", "tiny", "--phase", "decode", "--kv-len", "8", "--quant",
     "w4a16-g32,kv-int8,sparse-2:4", "--no-check"},
    {"--arch", "configs/arch/u280_int8.yaml", "--topology", "configs/topologies/gemm_example.csv", "--confirm", "2",
     "--no-check"},
    {"--system", "configs/systems/tpu_v4_4x4x4.yaml", "--model", "tiny", "--phase", "generate", "--input", "8",
     "--output", "2", "--pp", "2", "--tp", "2", "--no-check"},
};

const char* const kFlagValues[] = {"0", "-1", "18446744073709551615", "4294967296", "1e308", "nan", "", "x",
                                   "2", "65537", "3,3", "1,1,1,1", "--quiet"};

std::vector<std::string> mutate_command(std::vector<std::string> args, std::mt19937_64& random) {
  const auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  const int rounds = 1 + static_cast<int>(pick(2));
  for (int i = 0; i < rounds && !args.empty(); ++i) {
    const size_t at = pick(args.size());
    switch (pick(4)) {
      case 0: args[at] = kFlagValues[pick(std::size(kFlagValues))]; break;
      case 1: args.erase(args.begin() + static_cast<long>(at)); break;
      case 2: args.insert(args.begin() + static_cast<long>(at), args[at]); break;
      default: std::swap(args[at], args[pick(args.size())]); break;
    }
  }
  return args;
}

// Parses and runs one command line as `tessel run` does: false when the parser refuses it;
// throws what the command line reports for a refused run.
bool run_command_line(const std::vector<std::string>& args, const fs::path& source) {
  CLI::App app;
  cli::RunFlags flags;
  add_run_command(app, flags);
  std::vector<std::string> full = {"tessel", "run"};
  for (const std::string& arg : args) {
    full.push_back(arg.rfind("configs/", 0) == 0 ? (source / arg).string() : arg);
  }
  std::vector<const char*> argv;
  for (const std::string& arg : full) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return false;  // CLI11's messages name the flag or argument; the program prints them with its usage
  }
  flags.quiet = true;
  flags.out.clear();
  cli::execute_run(flags);
  return true;
}

struct Options {
  uint64_t inputs = 10000;  // per reader
  uint64_t seed = 1;
  std::string source = ".";
  std::string work = "fuzz_work";
};

Options parse(int argc, char* argv[]) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--inputs") options.inputs = std::stoull(value);
    else if (flag == "--seed") options.seed = std::stoull(value);
    else if (flag == "--source") options.source = value;
    else if (flag == "--work") options.work = value;
    else throw std::invalid_argument("unknown flag " + flag);
  }
  return options;
}

}  // namespace

extern "C" int sc_main(int argc, char* argv[]) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "tessel_fuzz: " << error.what()
              << "\nusage: tessel_fuzz [--inputs N per reader] [--seed S] [--source REPO] [--work DIR]\n";
    return 2;
  }
  fs::create_directories(options.work);
  // System and sweep files name their device as ../arch/<file>, seen from each reader's folder.
  const fs::path arch_link = fs::path(options.work) / "arch";
  if (!fs::exists(arch_link)) fs::create_directory_symlink(fs::absolute(fs::path(options.source) / "configs/arch"), arch_link);
  Mutator mutator(options.seed);
  bool clean = true;
  const auto started = std::chrono::steady_clock::now();
  for (const Target& target : targets(options.source)) {
    if (target.seeds.empty()) {
      std::cerr << "tessel_fuzz: no seed files for " << target.name << '\n';
      return 2;
    }
    std::vector<std::string> seeds;
    for (const std::string& file : target.seeds) seeds.push_back(read_text(file));
    // The name the readers see; config.json names its model after the directory.
    const fs::path input = fs::path(options.work) / target.name / ("input" + target.extension);
    fs::create_directories(input.parent_path());
    Tally tally;
    const auto target_started = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < options.inputs; ++i) {
      write_text(input.string(), mutator.mutate(seeds[i % seeds.size()]));
      ++tally.tried;
      try {
        target.read(input.string());
        ++tally.accepted;
      } catch (const std::exception& error) {
        ++tally.rejected;
        if (!names_place(error.what(), input.string())) {
          if (tally.unnamed++ == 0) {
            tally.first_unnamed = error.what();
            fs::copy_file(input, input.string() + ".unnamed", fs::copy_options::overwrite_existing);
          }
        }
      }
    }
    std::cout << target.name << ": " << tally.tried << " inputs, " << tally.accepted << " accepted, "
              << tally.rejected << " rejected, " << tally.unnamed << " naming no place"
              << (tally.unnamed ? " (first: " + tally.first_unnamed + ")" : "") << ", "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - target_started).count() << " s"
              << std::endl;
    clean = clean && tally.unnamed == 0;
  }
  // The command line: a rejection must name a flag or a file of the command.
  Tally runs;
  std::mt19937_64 random(options.seed);
  const uint64_t commands = std::max<uint64_t>(1, options.inputs / 20);  // a run costs 20 to 100 reads
  const fs::path last = fs::path(options.work) / "run-command.txt";
  for (uint64_t i = 0; i < commands; ++i) {
    const std::vector<std::string> args = mutate_command(kRunCommands[i % kRunCommands.size()], random);
    std::string line;
    for (const std::string& arg : args) line += "'" + arg + "' ";
    write_text(last.string(), line + "\n");
    ++runs.tried;
    try {
      ++(run_command_line(args, options.source) ? runs.accepted : runs.rejected);
    } catch (const std::exception& error) {
      ++runs.rejected;
      const std::string message = error.what();
      bool named = message.find("--") != std::string::npos;
      for (const std::string& arg : args) {
        named = named || (!arg.empty() && arg.rfind("--", 0) != 0 && message.find(arg) != std::string::npos);
      }
      if (!named && runs.unnamed++ == 0) runs.first_unnamed = line + ": " + message;
    }
  }
  std::cout << "run-command-line: " << runs.tried << " inputs, " << runs.accepted << " accepted, " << runs.rejected
            << " rejected, " << runs.unnamed << " naming no place"
            << (runs.unnamed ? " (first: " + runs.first_unnamed + ")" : "") << std::endl;
  clean = clean && runs.unnamed == 0;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "seconds: " << seconds << std::endl;
  return clean ? 0 : 1;
}
