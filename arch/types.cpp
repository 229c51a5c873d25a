#include "arch/types.h"

#include <stdexcept>

namespace tessel::arch {

std::string_view to_string(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::OutputStationary: return "os";
    case Dataflow::WeightStationary: return "ws";
    case Dataflow::InputStationary: return "is";
  }
  return "?";
}

std::optional<Dataflow> parse_dataflow(std::string_view text) {
  if (text == "os") return Dataflow::OutputStationary;
  if (text == "ws") return Dataflow::WeightStationary;
  if (text == "is") return Dataflow::InputStationary;
  return std::nullopt;
}

std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::Int8: return "int8";
    case DType::Fp8: return "fp8";
    case DType::Fp16: return "fp16";
    case DType::Bf16: return "bf16";
    case DType::Fp32: return "fp32";
    case DType::Int4: return "int4";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view text) {
  for (DType d : {DType::Int8, DType::Fp8, DType::Fp16, DType::Bf16, DType::Fp32, DType::Int4}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

double gemm_output_bytes(DType dtype) { return bits_of(dtype) < 16 ? 2.0 : element_bytes(dtype); }

bool is_sub_byte(DType dtype) { return bits_of(dtype) < 8; }

uint32_t bits_of(DType dtype) {
  switch (dtype) {
    case DType::Int4: return 4;
    case DType::Int8:
    case DType::Fp8: return 8;
    case DType::Fp16:
    case DType::Bf16: return 16;
    case DType::Fp32: return 32;
  }
  return 0;
}

uint32_t bytes_of(DType dtype) {
  if (is_sub_byte(dtype)) throw std::logic_error("bytes_of: int4 elements share bytes");
  return bits_of(dtype) / 8;
}

double element_bytes(DType dtype) { return bits_of(dtype) / 8.0; }

uint64_t bytes_for(uint64_t elements, DType dtype) { return ceil_div(elements * bits_of(dtype), 8); }

std::string_view to_string(Operand operand) {
  switch (operand) {
    case Operand::Input: return "input";
    case Operand::Weight: return "weight";
    case Operand::Output: return "output";
  }
  return "?";
}

std::optional<Operand> parse_operand(std::string_view text) {
  for (Operand o : {Operand::Input, Operand::Weight, Operand::Output}) {
    if (text == to_string(o)) return o;
  }
  return std::nullopt;
}

}  // namespace tessel::arch
