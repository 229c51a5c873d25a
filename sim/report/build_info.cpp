#include "sim/report/build_info.h"

#include "tessel_commit.h"

namespace tessel::sim {

std::string tessel_version() { return TESSEL_VERSION; }

std::string tessel_commit() { return TESSEL_COMMIT; }

void add_build_info(nlohmann::json& summary) {
  summary["tessel_version"] = tessel_version();
  summary["tessel_commit"] = tessel_commit();
}

}  // namespace tessel::sim
