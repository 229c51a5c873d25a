// Names shared by every architecture: dataflows, number formats, GEMM operands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessel::arch {

// Whole tiles, folds or chunks of size b needed to cover a: sizes here are never zero.
// Written without a + b - 1, which wraps to a small number when a is near 2^64.
constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// How a GEMM C[M×N] = A[M×K]·B[K×N] is laid onto a systolic array.
//   os: M on rows, N on cols, K in time; C stays in the PEs.
//   ws: K on rows, N on cols, M in time; B (weights) stays in the PEs.
//   is: K on rows, M on cols, N in time; A (inputs) stays in the PEs.
enum class Dataflow { OutputStationary, WeightStationary, InputStationary };

std::string_view to_string(Dataflow dataflow);
std::optional<Dataflow> parse_dataflow(std::string_view text);  // "os", "ws", "is"

// Number formats of the datapath. Every format accumulates in 32 bits:
// int4 and int8 in int32, the floating formats in fp32. int4 packs two values to a byte: it
// stores quantized weights and KV caches, and the linears of a W4A4 recipe multiply in it where
// the hardware has int4 MACs; a run's format (its norms, attention, caches) is 8 bits or more.
enum class DType { Int8, Fp8, Fp16, Bf16, Fp32, Int4 };

std::string_view to_string(DType dtype);
// "int8", "fp8", "fp16", "bf16", "fp32", "int4"
std::optional<DType> parse_dtype(std::string_view text);
bool is_sub_byte(DType dtype);  // int4
uint32_t bits_of(DType dtype);
// Whole bytes of an element of an 8-bit or wider format; throws std::logic_error for int4,
// whose elements share bytes: element_bytes and bytes_for count those.
uint32_t bytes_of(DType dtype);
// Bytes an element takes, packed: 0.5 for int4.
double element_bytes(DType dtype);
// Bytes of `elements` packed, rounded up to a byte.
uint64_t bytes_for(uint64_t elements, DType dtype);
constexpr uint32_t kAccumulatorBytes = 4;

// Bytes a GPU or CPU GEMM writes per element of C: 8-bit formats accumulate in 32 bits and write
// C in 16 (cuBLASLt's and TensorRT-LLM's fp8 and int8 GEMMs, DeepGEMM's gemm_fp8_fp8_bf16_nt,
// oneDNN's int8 matmul with a bf16 destination as SmoothQuant-style W8A8 runs); wider formats
// write their own width.
double gemm_output_bytes(DType dtype);

// The three operands of a GEMM: A (input), B (weight), C (output).
enum class Operand { Input, Weight, Output };
std::string_view to_string(Operand operand);
std::optional<Operand> parse_operand(std::string_view text);  // "input", "weight", "output"

}  // namespace tessel::arch
