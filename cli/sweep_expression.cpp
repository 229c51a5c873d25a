#include "cli/sweep_expression.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace tessel::cli {

namespace {

// Recursive descent over the text: expr := term (('+'|'-') term)*; term := factor (('*'|'/')
// factor)*; factor := number | name | '(' expr ')' | '-' factor.
class Parser {
 public:
  Parser(const std::string& text, const NameLookup* lookup) : text_(text), lookup_(lookup) {}

  double expression() {
    double value = term();
    for (char op = peek(); op == '+' || op == '-'; op = peek()) {
      ++at_;
      const double right = term();
      value = op == '+' ? value + right : value - right;
    }
    return value;
  }

  // The comparison at the cursor, if any: "<=", "<", ">=", ">", "==", "!=".
  std::string comparison() {
    peek();
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (text_.compare(at_, std::char_traits<char>::length(op), op) == 0) {
        at_ += std::char_traits<char>::length(op);
        return op;
      }
    }
    return "";
  }

  bool at_end() {
    peek();
    return at_ == text_.size();
  }

  [[noreturn]] void fail(const std::string& problem) const {
    const std::string rest = at_ < text_.size() ? "at '" + text_.substr(at_) + "'" : "at the end";
    throw ExpressionError("'" + text_ + "' " + rest + ": " + problem);
  }

  const std::vector<std::string>& names() const { return names_; }

 private:
  char peek() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    return at_ < text_.size() ? text_[at_] : '\0';
  }

  double term() {
    double value = factor();
    for (char op = peek(); op == '*' || op == '/'; op = peek()) {
      ++at_;
      const double right = factor();
      if (op == '/' && right == 0) fail("division by zero");
      value = op == '*' ? value * right : value / right;
    }
    return value;
  }

  double factor() {
    const char c = peek();
    if (c == '(') {
      ++at_;
      const double value = expression();
      if (peek() != ')') fail("a ')' is missing");
      ++at_;
      return value;
    }
    if (c == '-') {
      ++at_;
      return -factor();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* start = text_.c_str() + at_;
      char* end = nullptr;
      const double value = std::strtod(start, &end);
      at_ += static_cast<size_t>(end - start);
      return value;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = at_;
      while (at_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_' || text_[at_] == '.')) {
        ++at_;
      }
      const std::string name = text_.substr(start, at_ - start);
      names_.push_back(name);
      if (!lookup_) return 1;  // only the names are wanted
      const std::optional<double> value = (*lookup_)(name);
      if (!value) {
        at_ = start;
        fail(name + " has no numeric value at this point");
      }
      return *value;
    }
    fail(c == '\0' ? "a value is missing" : "a number, a name or '(' was expected");
  }

  const std::string& text_;
  const NameLookup* lookup_;
  size_t at_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

double evaluate(const std::string& expression, const NameLookup& lookup) {
  Parser parser(expression, &lookup);
  const double value = parser.expression();
  if (!parser.at_end()) parser.fail("an operator (+ - * /) or the end was expected");
  return value;
}

bool holds(const std::string& constraint, const NameLookup& lookup) {
  Parser parser(constraint, &lookup);
  const double left = parser.expression();
  const std::string op = parser.comparison();
  if (op.empty()) parser.fail("a comparison (<=, <, >=, >, ==, !=) was expected");
  const double right = parser.expression();
  if (!parser.at_end()) parser.fail("the end was expected after the comparison");
  if (op == "<=") return left <= right;
  if (op == "<") return left < right;
  if (op == ">=") return left >= right;
  if (op == ">") return left > right;
  if (op == "==") return left == right;
  return left != right;
}

std::vector<std::string> names_in(const std::string& expression) {
  Parser parser(expression, nullptr);
  parser.expression();
  if (!parser.comparison().empty()) parser.expression();
  return parser.names();
}

}  // namespace tessel::cli
