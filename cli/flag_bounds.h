// The range of every numeric flag: what real hardware and workloads span, so that the sizes a
// run multiplies together stay within 64 bits and a slip of the keyboard cannot start a run of
// years or wrap -1 to 2^64 - 1. The command line checks them as it parses (exit 2), the Python
// module as it reads its keywords (TesselError); both through the functions here.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "workloads/gemm.h"

namespace tessel::cli {

struct CountBound {  // a whole-number flag
  const char* flag;  // the long flag, e.g. "--batch"; the Python keyword is it with '-' as '_'
  uint64_t min;
  uint64_t max;
};

struct RealBound {
  const char* flag;
  double min;
  double max;
};

namespace bounds {

inline constexpr CountBound kBatch{"--batch", 1, 1'000'000};  // sequences
inline constexpr CountBound kSeq{"--seq", 1, 10'000'000};     // tokens a sequence
inline constexpr CountBound kKvLen{"--kv-len", 0, 10'000'000};
inline constexpr CountBound kInput{"--input", 1, 10'000'000};
// Each decode step is reported (a row of layers.csv per op, a step of stats.json).
inline constexpr CountBound kOutput{"--output", 1, 100'000};
inline constexpr CountBound kDecodeStride{"--decode-stride", 1, 10'000'000};
inline constexpr CountBound kGemmSize{"--gemm", 1, 10'000'000};  // each of M, N and K
inline constexpr CountBound kConfirm{"--confirm", 1, 1'000};
inline constexpr CountBound kTop{"--top", 0, 1'000};
inline constexpr CountBound kSeed{"--seed", 0, UINT64_MAX};
inline constexpr CountBound kTp{"--tp", 1, 65'536};
inline constexpr CountBound kPp{"--pp", 1, 65'536};
inline constexpr CountBound kDp{"--dp", 1, 65'536};
inline constexpr CountBound kEp{"--ep", 1, 65'536};
inline constexpr CountBound kMicrobatches{"--microbatches", 1, 65'536};
inline constexpr RealBound kExpertSkew{"--expert-skew", 1.0, 1e6};
// Training: every micro-batch's passes are on the iteration's timeline.
inline constexpr CountBound kGlobalBatch{"--global-batch", 1, 65'536};
inline constexpr CountBound kMicroBatch{"--micro-batch", 1, 65'536};
inline constexpr CountBound kChunks{"--chunks", 1, 1'024};
inline constexpr CountBound kZero{"--zero", 0, 3};
inline constexpr CountBound kLoraRank{"--lora-rank", 0, 65'536};
inline constexpr CountBound kSearchFull{"--search-full", 0, 65'536};
inline constexpr CountBound kSearchShow{"--search-show", 0, 65'536};
inline constexpr CountBound kSearchJobs{"--jobs", 0, 256};  // train --search; 0: one a core
inline constexpr CountBound kSweepJobs{"--jobs", 1, 256};   // sweep
// serve
inline constexpr CountBound kConcurrency{"--concurrency", 1, 1'000'000};
inline constexpr CountBound kRequestsCount{"--requests-count", 1, 10'000'000};
inline constexpr CountBound kMaxBatch{"--max-batch", 1, 1'000'000};
inline constexpr CountBound kTokenBudget{"--token-budget", 1, 10'000'000};
inline constexpr CountBound kBlockSize{"--block-size", 1, 65'536};
inline constexpr CountBound kKvBlocks{"--kv-blocks", 1, 1'000'000'000'000};
inline constexpr CountBound kPrefillTp{"--prefill-tp", 1, 65'536};
inline constexpr CountBound kReplicas{"--replicas", 1, 65'536};
inline constexpr RealBound kKvLinkGbps{"--kv-link-gbps", 1e-3, 1e5};  // GB/s
inline constexpr RealBound kKvLinkLatencyUs{"--kv-link-latency-us", 0, 1e6};
inline constexpr RealBound kOffloadWeightsGbps{"--offload-weights-gbps", 1e-3, 1e5};  // GB/s
inline constexpr RealBound kOffloadKvGbps{"--offload-kv-gbps", 1e-3, 1e5};  // GB/s
inline constexpr RealBound kHostMemoryGib{"--host-memory-gib", 1e-3, 1e7};  // GiB
inline constexpr RealBound kAttentionLinkGbps{"--attention-link-gbps", 1e-3, 1e5};  // GB/s
inline constexpr RealBound kAttentionLinkLatencyUs{"--attention-link-latency-us", 0, 1e6};
inline constexpr CountBound kAttentionMicrobatches{"--attention-microbatches", 1, 64};
inline constexpr CountBound kDraftTokens{"--draft-tokens", 1, 64};
inline constexpr RealBound kAcceptance{"--acceptance", 0.0, 1.0};
inline constexpr CountBound kShapeCells{"--shape-cells", 0, 1'024};
inline constexpr RealBound kMemoryFraction{"--memory-fraction", 0.01, 1.0};
inline constexpr RealBound kSloTtftMs{"--slo-ttft-ms", 1e-6, 1e9};
inline constexpr RealBound kSloTpotMs{"--slo-tpot-ms", 1e-6, 1e9};

}  // namespace bounds

// Why `text` is not a whole number within the bound ("-1 is not a whole number in [1, 1000000]"),
// or "" when it is; then `text` is rewritten in plain decimal (CLI11 would read 010 as octal).
std::string count_problem(const CountBound& bound, std::string& text);
std::string real_problem(const RealBound& bound, double value);

// CLI11 checks of the bounds (their descriptions show in --help); a count's rewrites its text.
CLI::Validator within(const CountBound& bound);
CLI::Validator within(const RealBound& bound);

// The option `bound.flag`, checked: a transform, since check() would drop the rewritten text.
template <typename Value>
CLI::Option* add_bounded(CLI::App& command, const CountBound& bound, Value& value, const std::string& description) {
  return command.add_option(bound.flag, value, description)->transform(within(bound));
}
inline CLI::Option* add_bounded(CLI::App& command, const RealBound& bound, double& value,
                                const std::string& description) {
  return command.add_option(bound.flag, value, description)->check(within(bound));
}

// --gemm M,N,K within kGemmSize and of FLOPs tessel can count: "" or why not (after the flag's
// name, as CLI11 prefixes it); gemm_flag throws FlagError with that message.
std::string gemm_problem(const std::string& text);
workloads::Gemm gemm_flag(const std::string& text);
CLI::Validator gemm_check();

}  // namespace tessel::cli
