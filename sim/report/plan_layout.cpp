#include "sim/report/plan_layout.h"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <string>

#include "sim/report/build_info.h"

namespace tessel::sim {

namespace {

nlohmann::json plan_json(const PlanOutcome& p) {
  const ParallelPlan& parallel = p.plan.parallel;
  return {{"tp", parallel.tensor},
          {"pp", parallel.pipeline},
          {"dp", parallel.data},
          {"micro_batch", p.request.micro_batch},
          {"recompute", std::string(workloads::to_string(p.request.recompute))},
          {"sequence_parallel", p.request.sequence_parallel},
          {"zero", p.plan.zero},
          {"fits", p.fits},
          {"memory_bytes", p.memory_bytes},
          {"iteration_s", p.fits ? nlohmann::json(p.iteration_s) : nlohmann::json()},
          {"tokens_per_s", p.fits ? nlohmann::json(p.tokens_per_s) : nlohmann::json()},
          {"mfu", p.fits ? nlohmann::json(p.mfu) : nlohmann::json()},
          {"estimated", p.estimated}};
}

}  // namespace

void write_plans_csv(const std::vector<PlanOutcome>& plans, std::ostream& out) {
  out << "rank,tp,pp,dp,micro_batch,recompute,sequence_parallel,zero,fits,memory_bytes,iteration_s,tokens_per_s,mfu,"
         "estimated\n"
      << std::setprecision(10);
  for (size_t i = 0; i < plans.size(); ++i) {
    const PlanOutcome& p = plans[i];
    const ParallelPlan& parallel = p.plan.parallel;
    out << i + 1 << ',' << parallel.tensor << ',' << parallel.pipeline << ',' << parallel.data << ','
        << p.request.micro_batch << ',' << workloads::to_string(p.request.recompute) << ','
        << (p.request.sequence_parallel ? 1 : 0) << ',' << p.plan.zero << ',' << (p.fits ? 1 : 0) << ','
        << p.memory_bytes << ',';
    if (p.fits) out << p.iteration_s << ',' << p.tokens_per_s << ',' << p.mfu;
    if (!p.fits) out << ",,";
    out << ',' << (p.estimated ? 1 : 0) << '\n';
  }
}

void print_plans_table(const std::vector<PlanOutcome>& plans, size_t rows, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  size_t fitting = 0;
  for (const PlanOutcome& p : plans) fitting += p.fits ? 1 : 0;
  out << plans.size() << " plans, " << fitting << " fit; the fastest:\n"
      << "rank  plan                                                      iteration s   tokens/s    MFU %  memory GB\n";
  bool estimated = false;
  for (size_t i = 0; i < std::min(rows, fitting); ++i) {
    const PlanOutcome& p = plans[i];
    estimated = estimated || p.estimated;
    out << std::left << std::setw(6) << i + 1 << std::setw(58) << plan_text(p) << std::right << std::fixed
        << std::setprecision(3) << std::setw(11) << p.iteration_s << (p.estimated ? "~" : " ") << std::setprecision(0)
        << std::setw(10) << p.tokens_per_s << std::setprecision(1) << std::setw(9) << 100.0 * p.mfu
        << std::setw(11) << static_cast<double>(p.memory_bytes) / 1e9 << '\n';
    out.flags(flags);
  }
  if (estimated) out << "~ estimated from two shortened runs\n";
  out.flags(flags);
}

nlohmann::json plans_summary_json(const std::vector<PlanOutcome>& plans, const std::vector<std::string>& warnings) {
  size_t fitting = 0;
  for (const PlanOutcome& p : plans) fitting += p.fits ? 1 : 0;
  nlohmann::json summary = {{"plans", plans.size()},
                            {"fitting", fitting},
                            {"best", fitting > 0 ? plan_json(plans.front()) : nlohmann::json()},
                            {"warnings", warnings}};
  add_build_info(summary);
  return summary;
}

}  // namespace tessel::sim
