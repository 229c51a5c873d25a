#include "sim/pe_level.h"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "arch/systolic/pe_array.h"
#include "sim/sc_kernel.h"

namespace tessel::sim {

namespace {

using RowMajorInt8 = Eigen::Matrix<int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorInt32 = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<int8_t> row_major(const Int8Matrix& matrix) {
  const RowMajorInt8 ordered = matrix;
  return {ordered.data(), ordered.data() + ordered.size()};
}

arch::Int8Gemm to_gemm(const Int8Matrix& a, const Int8Matrix& b) {
  if (a.cols() != b.rows()) {
    throw std::invalid_argument("PE-level GEMM: A has " + std::to_string(a.cols()) +
                                " columns but B has " + std::to_string(b.rows()) + " rows");
  }
  return {static_cast<uint32_t>(a.rows()), static_cast<uint32_t>(b.cols()),
          static_cast<uint32_t>(a.cols()), row_major(a), row_major(b)};
}

}  // namespace

PeLevelResult run_pe_level(const arch::ArraySpec& array, const Int8Matrix& a, const Int8Matrix& b,
                           std::optional<uint64_t> cycle_limit) {
  arch::Int8Gemm gemm = to_gemm(a, b);
  fresh_kernel();
  // The array ends its run with sc_stop(), which otherwise reports it on stdout every time.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  arch::PeArray pe_array("pe_array", array, std::move(gemm), cycle_limit);
  run_kernel();
  const Eigen::Map<const RowMajorInt32> c(pe_array.c().data(), a.rows(), b.cols());
  return {pe_array.cycles(), pe_array.finished(), c};
}

}  // namespace tessel::sim
