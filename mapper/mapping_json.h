// Mappings and their costs as JSON: what `tessel map --json` writes and `tessel run
// --mapping` reads back to pin a mapping.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mapper/cost_model.h"
#include "mapper/mapping.h"

namespace tessel::mapper {

nlohmann::json to_json(const GemmMapping& mapping);
nlohmann::json to_json(const MappingCost& cost);

// Reads a mapping object; errors name `source` (a file) and the key.
GemmMapping mapping_from_json(const nlohmann::json& json, const std::string& source);

// Reads a mapping file: the "mapping" member of a `tessel map --json` output, or a bare
// mapping object. Throws std::runtime_error naming the file and key.
GemmMapping read_mapping_file(const std::string& path);

}  // namespace tessel::mapper
