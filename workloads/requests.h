// The requests a served model receives: each arrives at a time with a prompt and asks for a
// number of output tokens. They come from a trace file or from a seeded generator (an open
// Poisson process, or lengths alone for closed-loop clients whose arrivals the serving run
// decides), with lengths drawn from a distribution.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tessel::workloads {

struct Request {
  uint64_t id = 0;
  double arrival_s = 0;  // closed-loop clients: set by the run as each is sent
  uint64_t prompt_tokens = 1;
  uint64_t output_tokens = 1;  // the first is the prefill's, each other a decode step's
};

// Token counts drawn at random: "N" (always N), "uniform:LO,HI" (LO to HI, each as likely),
// "normal:MEAN,STD" (rounded, at least 1).
struct LengthDistribution {
  enum Kind { Fixed, Uniform, Normal };
  Kind kind = Fixed;
  double a = 1;  // N, LO or MEAN
  double b = 0;  // HI or STD
  std::string text;
};

// Throws InputError naming `flag` for text that is not a distribution of positive lengths.
LengthDistribution parse_length_distribution(const std::string& text, const std::string& flag);

// "poisson:RATE": requests a second, exponential gaps between them.
double parse_poisson_rate(const std::string& text, const std::string& flag);

// A seeded source of lengths and gaps, the same on every platform (the standard library's
// distributions are not).
class RequestRandom {
 public:
  explicit RequestRandom(uint64_t seed) : engine_(seed) {}
  uint64_t length(const LengthDistribution& distribution);
  double exponential_gap(double rate);
  double uniform();  // in [0, 1), 53 bits

 private:
  std::mt19937_64 engine_;
};

// `count` requests: prompt and output lengths drawn from the distributions, and with a rate
// > 0, Poisson arrivals from time 0 (the first at its gap); with rate 0 every arrival is 0.
std::vector<Request> generate_requests(uint64_t count, double rate, const LengthDistribution& prompt,
                                       const LengthDistribution& output, uint64_t seed);

// A CSV trace with a header naming the columns arrival_s, prompt_tokens and output_tokens (in
// any order; other columns are ignored, so a run's requests.csv is a trace); arrivals in
// seconds, not decreasing. Throws InputError naming the file, line and column.
std::vector<Request> read_request_trace(const std::string& path);

}  // namespace tessel::workloads
