// Bad workload input: the message names the file (or flag), the line and the field.
#pragma once

#include <stdexcept>
#include <string>

namespace tessel::workloads {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tessel::workloads
