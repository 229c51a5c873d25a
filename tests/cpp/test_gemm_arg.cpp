// The `--gemm M,N,K` workload: three positive integers, nothing else.
#include <gtest/gtest.h>

#include <string>

#include "workloads/gemm_arg.h"
#include "workloads/input_error.h"

namespace tessel::workloads {
namespace {

TEST(GemmArg, ReadsMNKInOrder) {
  const Gemm gemm = parse_gemm_arg("512,3072,768");
  EXPECT_EQ(gemm.name, "gemm");
  EXPECT_EQ(gemm.m, 512u);
  EXPECT_EQ(gemm.n, 3072u);
  EXPECT_EQ(gemm.k, 768u);
  EXPECT_EQ(gemm.macs(), 512u * 3072u * 768u);
}

TEST(GemmArg, ReadsSizesBeyond32Bits) {
  EXPECT_EQ(parse_gemm_arg("1,1,8589934592").k, 8589934592u);
}

class BadGemmArg : public testing::TestWithParam<const char*> {};

TEST_P(BadGemmArg, ThrowsNamingTheFlagAndTheText) {
  const std::string text = GetParam();
  try {
    parse_gemm_arg(text);
    ADD_FAILURE() << "'" << text << "' was accepted";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("--gemm '" + text + "': ", 0), 0u) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(GemmArg, BadGemmArg,
                         testing::Values("", "64", "64,64", "64,64,64,64", "0,64,64", "64,-1,64",
                                         "64,x,64", "64,,64", "64,64,64,", " 64,64,64", "64,64,6.5",
                                         "64,64,99999999999999999999"));

TEST(GemmArg, MessagesSayWhatIsWrong) {
  const auto message = [](const char* text) {
    try {
      parse_gemm_arg(text);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(message("64,64").find("got 2 values"), std::string::npos);
  EXPECT_NE(message("0,64,64").find("sizes must be positive"), std::string::npos);
  EXPECT_NE(message("64,x,64").find("'x' is not a positive integer"), std::string::npos);
}

}  // namespace
}  // namespace tessel::workloads
