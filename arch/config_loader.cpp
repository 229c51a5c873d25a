#include "arch/config_loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "arch/config_error.h"
#include "arch/config_scalesim.h"
#include "arch/config_yaml.h"

namespace tessel::arch {

SystolicSpec load_spec(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw ConfigError(path, "is a directory, not a file");
  if (!std::ifstream(path))
    throw ConfigError(path, "cannot open: " + std::string(std::strerror(errno)));
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".yaml" || extension == ".yml") return load_yaml_spec(path);
  if (extension == ".cfg") return load_scalesim_cfg(path);
  throw ConfigError(path, "unknown architecture format '" + extension +
                              "': expected .yaml or .yml (tessel) or .cfg (SCALE-Sim)");
}

}  // namespace tessel::arch
