#include "workloads/hf_quantization.h"

#include <string>

namespace tessel::workloads {

namespace {

using nlohmann::json;

constexpr const char* kKey = "quantization_config";

// quantization_config.<name> as a type T, or `fallback` when absent or null.
template <typename T>
T entry(ConfigFile& file, const json& q, const char* name, T fallback) {
  if (!q.contains(name) || q.at(name).is_null()) return fallback;
  try {
    return q.at(name).get<T>();
  } catch (const json::exception&) {
    file.fail(std::string(kKey) + "." + name, "has the wrong type: " + q.at(name).dump());
  }
}

}  // namespace

void read_quantization(ConfigFile& file, ModelConfig& config) {
  if (!file.has(kKey) || file.value(kKey).is_null()) return;
  file.mark_read(kKey);
  const json& q = file.value(kKey);
  if (!q.is_object()) file.fail(kKey, "must be an object");
  const std::string method = entry<std::string>(file, q, "quant_method", "");
  QuantRecipe recipe;
  recipe.name = "config.json (" + method + ")";
  if (method == "awq" || method == "gptq") {
    // AutoAWQ's and GPTQ's checkpoints: packed integer weights with fp16 scales per group along
    // K (group_size -1: per output channel); AWQ keeps zero points unless zero_point is false,
    // GPTQ unless sym is true.
    const auto bits = entry<int>(file, q, "bits", 4);
    if (bits != 4 && bits != 8) file.fail(std::string(kKey) + ".bits", std::to_string(bits) + ": tessel stores 4 or 8");
    const auto group = entry<int>(file, q, "group_size", 128);
    StoredFormat weights;
    weights.format = bits == 4 ? arch::DType::Int4 : arch::DType::Int8;
    weights.scales = group > 0 ? ScaleGranularity::Group : ScaleGranularity::Channel;
    weights.group = group > 0 ? static_cast<uint64_t>(group) : 0;
    weights.zero_points = method == "awq" ? entry<bool>(file, q, "zero_point", true) : !entry<bool>(file, q, "sym", true);
    recipe.weights = weights;
    recipe.activation_bits = 16;
    recipe.name = "config.json (" + method + ", int" + std::to_string(bits) +
                  (group > 0 ? ", groups of " + std::to_string(group) : ", per channel") + ")";
  } else if (method == "fp8") {
    // fp8 checkpoints (vLLM's and Hugging Face's fp8): E4M3 weights with a scale per tensor,
    // activations cast to fp8 for the products.
    recipe.weights = StoredFormat{arch::DType::Fp8, ScaleGranularity::Tensor, 0, false};
    recipe.activations = arch::DType::Fp8;
  } else {
    file.warn(kKey, "quant_method '" + method + "' is not modelled: the weights are held and multiplied in the run's "
                    "--dtype (give --quant to model a scheme)");
    return;
  }
  if (q.contains("modules_to_not_convert") && q.at("modules_to_not_convert").is_array()) {
    // The LM head is kept anyway; other module paths name no op of tessel's graphs.
    for (const json& module : q.at("modules_to_not_convert")) {
      const std::string name = module.is_string() ? module.get<std::string>() : module.dump();
      if (name.find("lm_head") == std::string::npos) {
        file.warn(std::string(kKey) + ".modules_to_not_convert",
                  "'" + name + "' is quantized all the same (a recipe file's keep can name op globs)");
      }
    }
  }
  config.quant = recipe;
}

}  // namespace tessel::workloads
