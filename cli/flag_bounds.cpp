#include "cli/flag_bounds.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "cli/cli_common.h"
#include "workloads/counts.h"
#include "workloads/gemm_arg.h"
#include "workloads/input_error.h"

namespace tessel::cli {

namespace {

std::string range_text(const CountBound& bound) {
  return "[" + std::to_string(bound.min) + ", " + std::to_string(bound.max) + "]";
}

std::string range_text(const RealBound& bound) {
  std::ostringstream text;
  text << "[" << bound.min << ", " << bound.max << "]";
  return text.str();
}

}  // namespace

std::string count_problem(const CountBound& bound, std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  // Digits only: from_chars takes no '+', and a '-' must not wrap to 2^64 - 1.
  const auto parsed = std::from_chars(text.data(), end, value);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != end || value < bound.min || value > bound.max) {
    return text + " is not a whole number in " + range_text(bound);
  }
  text = std::to_string(value);
  return "";
}

std::string real_problem(const RealBound& bound, double value) {
  if (std::isfinite(value) && value >= bound.min && value <= bound.max) return "";
  std::ostringstream text;
  text << value << " is not a number in " << range_text(bound);
  return text.str();
}

CLI::Validator within(const CountBound& bound) {
  return CLI::Validator([bound](std::string& text) { return count_problem(bound, text); }, range_text(bound));
}

CLI::Validator within(const RealBound& bound) {
  return CLI::Validator(
      [bound](std::string& text) {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return text + " is not a number in " + range_text(bound);
        return real_problem(bound, value);
      },
      range_text(bound));
}

std::string gemm_problem(const std::string& text) {
  try {
    const workloads::Gemm gemm = workloads::parse_gemm_arg(text);
    for (const uint64_t size : {gemm.m, gemm.n, gemm.k}) {
      if (size > bounds::kGemmSize.max) {
        return "'" + text + "': " + std::to_string(size) + " is not a size in " + range_text(bounds::kGemmSize);
      }
    }
    workloads::check_gemm_flops(gemm, "'" + text + "'");
  } catch (const workloads::InputError& error) {
    // Its messages begin with the flag's name, which CLI11 and gemm_flag put first themselves.
    const std::string message = error.what();
    const std::string flag = std::string(bounds::kGemmSize.flag) + " ";
    return message.rfind(flag, 0) == 0 ? message.substr(flag.size()) : message;
  }
  return "";
}

workloads::Gemm gemm_flag(const std::string& text) {
  const std::string problem = gemm_problem(text);
  if (!problem.empty()) throw FlagError(std::string(bounds::kGemmSize.flag) + ": " + problem);
  return workloads::parse_gemm_arg(text);
}

CLI::Validator gemm_check() {
  return CLI::Validator([](std::string& text) { return gemm_problem(text); },
                        "M,N,K each in " + range_text(bounds::kGemmSize));
}

}  // namespace tessel::cli
