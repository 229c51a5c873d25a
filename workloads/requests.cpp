#include "workloads/requests.h"

#include <libfccp/csv.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

// The numbers after "name:" of a "name:A,B" text; throws InputError naming the flag.
std::vector<double> parameters(const std::string& text, size_t colon, size_t count, const std::string& flag,
                               const std::string& form) {
  std::vector<double> values;
  size_t start = colon + 1;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string field = text.substr(start, comma - start);
    char* end = nullptr;
    const double value = std::strtod(field.c_str(), &end);
    if (field.empty() || *end != '\0' || !std::isfinite(value)) {
      throw InputError(flag + ": '" + text + "' is not " + form);
    }
    values.push_back(value);
    start = comma + 1;
  }
  if (values.size() != count) throw InputError(flag + ": '" + text + "' is not " + form);
  return values;
}

constexpr double kLongest = 1e7;  // tokens: the longest prompt or output a run accepts

}  // namespace

LengthDistribution parse_length_distribution(const std::string& text, const std::string& flag) {
  const std::string forms = "N, uniform:LO,HI or normal:MEAN,STD";
  LengthDistribution distribution;
  distribution.text = text;
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    const std::vector<double> n = parameters(":" + text, 0, 1, flag, forms);
    if (n[0] < 1 || n[0] > kLongest || n[0] != std::floor(n[0])) {
      throw InputError(flag + ": a length must be a whole number of tokens from 1 to 10000000, got '" + text + "'");
    }
    distribution.a = n[0];
    return distribution;
  }
  const std::string name = text.substr(0, colon);
  const std::vector<double> p = parameters(text, colon, 2, flag, forms);
  if (name == "uniform") {
    if (p[0] < 1 || p[1] < p[0] || p[1] > kLongest) {
      throw InputError(flag + ": uniform:LO,HI needs 1 <= LO <= HI <= 10000000, got '" + text + "'");
    }
    distribution.kind = LengthDistribution::Uniform;
  } else if (name == "normal") {
    if (p[0] < 1 || p[0] > kLongest || p[1] < 0) {
      throw InputError(flag + ": normal:MEAN,STD needs 1 <= MEAN <= 10000000 and STD >= 0, got '" + text + "'");
    }
    distribution.kind = LengthDistribution::Normal;
  } else {
    throw InputError(flag + ": unknown distribution '" + name + "' (give " + forms + ")");
  }
  distribution.a = p[0];
  distribution.b = p[1];
  return distribution;
}

double parse_poisson_rate(const std::string& text, const std::string& flag) {
  const std::string form = "poisson:RATE (requests a second)";
  if (text.rfind("poisson:", 0) != 0) throw InputError(flag + ": '" + text + "' is not " + form);
  const double rate = parameters(text, text.find(':'), 1, flag, form)[0];
  if (rate <= 0) throw InputError(flag + ": the rate must be above 0, got '" + text + "'");
  return rate;
}

double RequestRandom::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

uint64_t RequestRandom::length(const LengthDistribution& d) {
  switch (d.kind) {
    case LengthDistribution::Fixed:
      return static_cast<uint64_t>(d.a);
    case LengthDistribution::Uniform: {
      const double span = d.b - d.a + 1;
      return static_cast<uint64_t>(d.a + std::min(std::floor(uniform() * span), span - 1));
    }
    case LengthDistribution::Normal: {
      // Box–Muller on the engine's own uniforms.
      const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
      const double z = radius * std::cos(2.0 * M_PI * uniform());
      return static_cast<uint64_t>(std::clamp(std::round(d.a + d.b * z), 1.0, kLongest));
    }
  }
  return 1;
}

double RequestRandom::exponential_gap(double rate) { return -std::log(1.0 - uniform()) / rate; }

std::vector<Request> generate_requests(uint64_t count, double rate, const LengthDistribution& prompt,
                                       const LengthDistribution& output, uint64_t seed) {
  RequestRandom random(seed);
  std::vector<Request> requests(count);
  double now = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (rate > 0) now += random.exponential_gap(rate);
    requests[i] = {i, now, random.length(prompt), random.length(output)};
  }
  return requests;
}

std::vector<Request> read_request_trace(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(path + ": no such request trace");
  std::vector<Request> requests;
  try {
    io::CSVReader<3, io::trim_chars<' ', '\t'>, io::no_quote_escape<','>, io::throw_on_overflow,
                  io::empty_line_comment>
        csv(path);
    csv.read_header(io::ignore_extra_column, "arrival_s", "prompt_tokens", "output_tokens");
    double arrival = 0;
    double prompt = 0;
    double output = 0;
    while (csv.read_row(arrival, prompt, output)) {
      const std::string at = path + ":" + std::to_string(csv.get_file_line()) + ": ";
      if (!std::isfinite(arrival) || arrival < 0) throw InputError(at + "arrival_s must be a time >= 0 in seconds");
      if (!requests.empty() && arrival < requests.back().arrival_s) {
        throw InputError(at + "arrival_s goes back in time (the trace must be in order of arrival)");
      }
      for (const auto& [value, column] : {std::pair{prompt, "prompt_tokens"}, std::pair{output, "output_tokens"}}) {
        if (value < 1 || value > kLongest || value != std::floor(value)) {
          throw InputError(at + column + " must be a whole number of tokens from 1 to 10000000");
        }
      }
      requests.push_back({requests.size(), arrival, static_cast<uint64_t>(prompt), static_cast<uint64_t>(output)});
    }
  } catch (const io::error::base& error) {
    throw InputError(path + ": " + error.what());
  }
  if (requests.empty()) throw InputError(path + ": the trace has no requests");
  return requests;
}

}  // namespace tessel::workloads
