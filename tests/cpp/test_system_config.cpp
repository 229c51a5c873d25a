// System files: every shipped system loads with the device count of its hardware, and a
// mistake names its file, line and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "arch/config_error.h"
#include "arch/config_system.h"
#include "test_files.h"

namespace tessel::arch {
namespace {

namespace fs = std::filesystem;
const std::string kSystems = std::string(TESSEL_SOURCE_DIR) + "/configs/systems/";

// The shipped systems: an 8 x A100 node, an 8 x H100 node, a multi-node H100 cluster, a
// 1,024-GPU A100 SuperPOD, a 64-chip TPU v4 slice and four U280 cards.
TEST(SystemConfig, ShippedSystemsLoadWithTheirDeviceCounts) {
  const std::map<std::string, uint64_t> devices = {
      {"dgx_a100.yaml", 8},         {"dgx_h100.yaml", 8},     {"h100_cluster_4x8.yaml", 32},
      {"a100_superpod_128x8.yaml", 1024}, {"tpu_v4_4x4x4.yaml", 64}, {"u280_x4.yaml", 4},
      {"xeon_8480_2s.yaml", 2}};
  int loaded = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kSystems)) {
    SCOPED_TRACE(entry.path().string());
    const SystemSpec system = load_system(entry.path().string());
    EXPECT_EQ(system.name, entry.path().stem().string());
    ASSERT_TRUE(devices.count(entry.path().filename().string()));
    EXPECT_EQ(system.device_count(), devices.at(entry.path().filename().string()));
    for (const LevelSpec& level : system.levels) EXPECT_TRUE(level.link.energy_pj_per_byte.has_value());
    ++loaded;
  }
  EXPECT_EQ(loaded, 7);
  const SystemSpec slice = load_system(kSystems + "tpu_v4_4x4x4.yaml");
  EXPECT_EQ(slice.levels[0].topology, Topology::Torus);
  EXPECT_TRUE(slice.levels[0].wraparound);
  // Innermost fastest: device 21 is (1, 1, 1) of the cube.
  EXPECT_EQ(slice.coordinates(21), (std::vector<std::vector<uint32_t>>{{1, 1, 1}}));
}

struct BadSystem {
  const char* name;
  std::vector<testing::LineEdit> edits;  // of configs/systems/dgx_a100.yaml
  int line;
  const char* key;
  const char* problem;
};

void PrintTo(const BadSystem& bad, std::ostream* out) { *out << bad.name; }

class BadSystems : public ::testing::TestWithParam<BadSystem> {};

TEST_P(BadSystems, NameFileLineAndKey) {
  const BadSystem& bad = GetParam();
  // Beside the shipped file, so its relative device path still resolves.
  const std::string path = kSystems + "../systems/tessel_test_" + bad.name + "_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << testing::edit_lines(testing::read_lines(kSystems + "dgx_a100.yaml"), bad.edits);
  const std::string message = testing::error_message<ConfigError>([&] { load_system(path); }, bad.name);
  fs::remove(path);
  const std::string where = path + ":" + std::to_string(bad.line) + ": key '" + bad.key + "': ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(bad.problem), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    SystemConfig, BadSystems,
    ::testing::Values(
        BadSystem{"no_device_file", {{7, "device: ../arch/nowhere.yaml"}}, 7, "device", "no architecture file"},
        BadSystem{"unknown_topology", {{10, "    topology: ring"}}, 10, "levels[0].topology",
                  "must be one of switch, torus"},
        BadSystem{"switch_with_dims", {{10, "    topology: switch\n    dims: [2, 4]"}}, 11, "levels[0].dims",
                  "applies to a torus"},
        BadSystem{"fraction_over_one", {{14, "    achievable_fraction: 1.5"}}, 14, "levels[0].achievable_fraction",
                  "must be at most 1"},
        BadSystem{"missing_energy", {{15, std::nullopt}}, 9, "levels[0].energy_pj_per_byte", "missing"},
        BadSystem{"unknown_key", {{16, "    colective_latency_us: 8.2"}}, 16, "levels[0].colective_latency_us",
                  "unknown key"},
        BadSystem{"zero_size", {{11, "    size: 0"}}, 11, "levels[0].size", "positive integer"}),
    [](const ::testing::TestParamInfo<BadSystem>& param) { return param.param.name; });

}  // namespace
}  // namespace tessel::arch
