#include "mapper/mapping.h"

#include <cmath>

#include <algorithm>

namespace tessel::mapper {

std::string_view to_string(Dim dim) {
  switch (dim) {
    case Dim::M: return "M";
    case Dim::N: return "N";
    case Dim::K: return "K";
  }
  return "?";
}

namespace {

// `elements` at `element_bytes` each (0: the mapping's format), rounded up to a byte.
uint64_t block_bytes(const GemmMapping& mapping, uint64_t elements, double element_bytes) {
  const double bytes = element_bytes > 0 ? element_bytes : arch::element_bytes(mapping.dtype);
  return static_cast<uint64_t>(std::ceil(static_cast<double>(elements) * bytes));
}

}  // namespace

uint64_t weight_block_bytes(const GemmMapping& mapping, uint64_t elements) {
  return block_bytes(mapping, elements, mapping.weight_bytes);
}

uint64_t input_block_bytes(const GemmMapping& mapping, uint64_t elements) {
  return block_bytes(mapping, elements, mapping.input_bytes);
}

arch::TileWork as_stored(arch::TileWork work, const GemmMapping& mapping, const arch::ArraySpec& array) {
  const auto scaled = [&](uint64_t& bytes, double element_bytes) {
    const double ratio = element_bytes / arch::element_bytes(mapping.dtype);
    bytes = static_cast<uint64_t>(std::ceil(static_cast<double>(bytes) * ratio));
  };
  if (mapping.weight_bytes > 0) scaled(work.accesses.weight_read, mapping.weight_bytes);
  if (mapping.input_bytes > 0) scaled(work.accesses.input_read, mapping.input_bytes);
  if (mapping.weight_density < 1 && array.weight_zeros == arch::ZeroHandling::Skip) {
    work.compute_cycles =
        static_cast<uint64_t>(std::ceil(static_cast<double>(work.compute_cycles) * mapping.weight_density));
  }
  return work;
}

uint64_t performed_macs(uint64_t macs, const GemmMapping& mapping, const arch::ArraySpec& array) {
  if (mapping.weight_density >= 1 || array.weight_zeros == arch::ZeroHandling::None) return macs;
  return static_cast<uint64_t>(std::llround(static_cast<double>(macs) * mapping.weight_density));
}

std::string GemmMapping::describe() const {
  std::string text = std::string(arch::to_string(dataflow)) + " " + std::string(arch::to_string(dtype));
  text += " split " + std::string(to_string(split)) + "x" + std::to_string(parts);
  text += " tile " + std::to_string(tile.m) + "x" + std::to_string(tile.n) + "x" + std::to_string(tile.k);
  text += " order ";
  for (size_t i = 0; i < order.size(); ++i) {
    if (i > 0) text += ",";
    text += to_string(order[i]);
  }
  text += " resident " + std::to_string(resident_loops[0]) + "," + std::to_string(resident_loops[1]) + "," +
          std::to_string(resident_loops[2]);
  text += double_buffered ? " double-buffered" : " single-buffered";
  return text;
}

Extents part_extents(const Extents& gemm, const GemmMapping& mapping, uint32_t part) {
  Extents slice = gemm;
  uint64_t& along = mapping.split == Dim::M ? slice.m : slice.n;
  const uint64_t begin = uint64_t{part} * mapping.part_size;
  along = begin >= along ? 0 : std::min(mapping.part_size, along - begin);
  return slice;
}

bool shares_input(const Extents& gemm, const GemmMapping& mapping, uint32_t arrays_per_core) {
  return mapping.split == Dim::N && arrays_per_core > 1 && mapping.parts > 1 &&
         uint64_t{mapping.parts} * mapping.part_size == gemm.n;
}

bool fetches_input(const Extents& gemm, const GemmMapping& mapping, uint32_t arrays_per_core, uint32_t part) {
  return part % arrays_per_core == 0 || !shares_input(gemm, mapping, arrays_per_core);
}

}  // namespace tessel::mapper
