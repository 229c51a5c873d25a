#include "arch/arch_spec.h"

namespace tessel::arch {

const std::string& name_of(const ArchSpec& spec) {
  return std::visit([](const auto& s) -> const std::string& { return s.name; }, spec);
}

const std::string& source_file_of(const ArchSpec& spec) {
  return std::visit([](const auto& s) -> const std::string& { return s.source_file; }, spec);
}

}  // namespace tessel::arch
