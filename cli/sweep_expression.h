// Arithmetic over a sweep point's values, for a sweep file's derived keys and constraints:
// numbers, dotted names (the point's architecture keys, its device's figures), + - * /,
// parentheses, and in a constraint one comparison (<= < >= > == !=).
//
//   derive:
//     buffers.0.capacity_kib: array.rows * array.cols / 4
//   constraints:
//     - area_mm2 <= 400
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessel::cli {

// What is wrong with an expression, and where: "at 'x': a name without a value".
class ExpressionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A name's value at the point; nothing when it has none.
using NameLookup = std::function<std::optional<double>(const std::string&)>;

// The value of an arithmetic expression; throws ExpressionError.
double evaluate(const std::string& expression, const NameLookup& lookup);

// A constraint: `expression op expression`. Throws ExpressionError, also for no comparison.
bool holds(const std::string& constraint, const NameLookup& lookup);

// The names an expression or a constraint reads, in order of appearance.
std::vector<std::string> names_in(const std::string& expression);

}  // namespace tessel::cli
