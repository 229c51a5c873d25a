#include "workloads/gemm_arg.h"

#include <charconv>
#include <string>
#include <vector>

#include "workloads/input_error.h"

namespace tessel::workloads {

Gemm parse_gemm_arg(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    return InputError("--gemm '" + std::string(text) + "': " + why +
                      " (expected M,N,K: three positive integers, C[M×N] = A[M×K]·B[K×N])");
  };
  std::vector<uint64_t> values;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view field = rest.substr(0, comma);
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size()) {
      throw fail("'" + std::string(field) + "' is not a positive integer");
    }
    if (value == 0) throw fail("sizes must be positive");
    values.push_back(value);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (values.size() != 3) throw fail("got " + std::to_string(values.size()) + " values");
  return Gemm{"gemm", values[0], values[1], values[2]};
}

}  // namespace tessel::workloads
