// `tessel sweep --scheduler ADDRESS`: a sweep's points on a dask.distributed cluster. A Python
// process (tessel.cluster_sweep, on Debian's python3-distributed) sends chunks of points to the
// cluster's workers, each chunk one `tessel sweep --emit-points` process there (a chunk whose
// worker dies runs again on another), and passes back each finished point's files as a JSON
// line; this side commits them into the sweep's directory as local workers' points are.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/sweep_store.h"

namespace tessel::cli {

struct ClusterSweep {
  std::string scheduler;  // the scheduler's address, tcp://HOST:8786
  std::string spec_file;  // the sweep file, at the same path on the workers
};

// Runs `points` of the sweep on the cluster, committing each into `store` as it comes back and
// calling on_point with how many have. Throws std::runtime_error with the Python process's
// last words when it fails (no scheduler at the address, no tessel on the workers), or when
// `interrupted` says so (SIGINT, SIGTERM).
void run_points_on_cluster(const ClusterSweep& cluster, const std::vector<uint64_t>& points, const SweepStore& store,
                           const std::function<void(uint64_t)>& on_point, const std::function<bool()>& interrupted);

// A point's files as one JSON line, {"point": i, "files": {name: text}} (what --emit-points
// prints and run_points_on_cluster reads).
nlohmann::json point_record(uint64_t point, const std::filesystem::path& dir);

}  // namespace tessel::cli
