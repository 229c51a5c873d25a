// What built this tessel: the project's version (CMakeLists.txt) and the git commit, which
// `tessel --version` prints and every summary.json records.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tessel::sim {

std::string tessel_version();
// The commit hash, "-dirty" appended when tracked files differed from it; "unknown" when not
// built from a git checkout.
std::string tessel_commit();

// Adds "tessel_version" and "tessel_commit" to a summary.
void add_build_info(nlohmann::json& summary);

}  // namespace tessel::sim
