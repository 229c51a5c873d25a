// Requests for serving runs (workloads/requests.h): length distributions, seeded Poisson
// arrivals, and trace files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "tests/cpp/test_files.h"
#include "workloads/input_error.h"
#include "workloads/requests.h"

namespace tessel::workloads {
namespace {

TEST(Requests, LengthsFollowTheirDistribution) {
  const LengthDistribution uniform = parse_length_distribution("uniform:10,20", "--prompt-len");
  const LengthDistribution normal = parse_length_distribution("normal:500,100", "--prompt-len");
  RequestRandom random(9);
  std::vector<double> normals;
  bool low_seen = false, high_seen = false;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t u = random.length(uniform);
    ASSERT_GE(u, 10u);
    ASSERT_LE(u, 20u);
    low_seen = low_seen || u == 10;
    high_seen = high_seen || u == 20;
    normals.push_back(static_cast<double>(random.length(normal)));
  }
  EXPECT_TRUE(low_seen && high_seen) << "both ends are drawn";
  const double mean = std::accumulate(normals.begin(), normals.end(), 0.0) / static_cast<double>(normals.size());
  double variance = 0;
  for (double x : normals) variance += (x - mean) * (x - mean);
  const double std_dev = std::sqrt(variance / static_cast<double>(normals.size()));
  // 20000 draws: the mean's standard error is 100/141 ≈ 0.7 tokens, the deviation's ≈ 0.5.
  EXPECT_NEAR(mean, 500, 3);
  EXPECT_NEAR(std_dev, 100, 3);
  EXPECT_EQ(parse_length_distribution("77", "--output-len").a, 77);
}

TEST(Requests, PoissonArrivalsHaveTheirRateAndTheSeedFixesThem) {
  const LengthDistribution fixed = parse_length_distribution("8", "x");
  const std::vector<Request> requests = generate_requests(20000, 50, fixed, fixed, 4);
  // 20000 exponential gaps of mean 1/50 s: the last arrival is 400 s within about 0.7% (1 σ).
  EXPECT_NEAR(requests.back().arrival_s, 400, 12);
  EXPECT_TRUE(std::is_sorted(requests.begin(), requests.end(),
                             [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; }));
  EXPECT_EQ(generate_requests(5, 50, fixed, fixed, 4)[4].arrival_s, requests[4].arrival_s);
  EXPECT_NE(generate_requests(5, 50, fixed, fixed, 5)[4].arrival_s, requests[4].arrival_s);
  EXPECT_EQ(generate_requests(3, 0, fixed, fixed, 4)[2].arrival_s, 0.0) << "no rate: all at once";
}

TEST(Requests, BadDistributionsAreRefusedNamingTheFlag) {
  for (const char* text : {"0", "uniform:5", "uniform:9,3", "normal:0,1", "normal:5,-1", "zipf:1,2", "12.5", "x"}) {
    try {
      parse_length_distribution(text, "--prompt-len");
      ADD_FAILURE() << text << " was accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind("--prompt-len: ", 0), 0u) << error.what();
    }
  }
  EXPECT_THROW(parse_poisson_rate("poisson:0", "--arrivals"), InputError);
  EXPECT_THROW(parse_poisson_rate("gamma:3", "--arrivals"), InputError);
  EXPECT_DOUBLE_EQ(parse_poisson_rate("poisson:2.5", "--arrivals"), 2.5);
}

TEST(Requests, ATraceIsReadByItsColumnNamesInAnyOrder) {
  const std::filesystem::path dir = testing::fresh_dir("requests_trace");
  std::filesystem::create_directories(dir);
  const std::filesystem::path good = dir / "good.csv";
  std::ofstream(good) << "output_tokens,note,arrival_s,prompt_tokens\n5,a,0.25,100\n7,b,1.5,300\n";
  const std::vector<Request> requests = read_request_trace(good.string());
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].prompt_tokens, 300u);
  EXPECT_EQ(requests[1].output_tokens, 7u);
  EXPECT_DOUBLE_EQ(requests[1].arrival_s, 1.5);
  const std::filesystem::path back = dir / "back.csv";
  std::ofstream(back) << "arrival_s,prompt_tokens,output_tokens\n2,10,1\n1,10,1\n";
  try {
    read_request_trace(back.string());
    ADD_FAILURE() << "an arrival before the one above was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(back.string() + ":3: arrival_s"), std::string::npos) << error.what();
  }
  const std::filesystem::path missing = dir / "missing.csv";
  std::ofstream(missing) << "arrival_s,prompt_tokens\n0,10\n";
  EXPECT_THROW(read_request_trace(missing.string()), InputError);
}

}  // namespace
}  // namespace tessel::workloads
