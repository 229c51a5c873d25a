#include "sim/report/model_layout.h"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "sim/report/common.h"

namespace tessel::sim {

namespace {

std::string phase_name(const workloads::Phase& phase) {
  return phase.kind == workloads::Phase::Prefill ? "prefill" : "decode";
}

const ModelWorkload& model_of(const RunResult& result) { return *result.model(); }

uint64_t tensor_parallel(const RunResult& result) { return result.tensor_parallel; }

const char* attention_name(workloads::AttentionImpl impl) {
  return impl == workloads::AttentionImpl::Fused ? "fused" : "unfused";
}

uint64_t dram_bytes(const arch::Activity& a) { return a.dram_read_bytes + a.dram_write_bytes; }

nlohmann::json layer_json(const RunResult& result, size_t first, size_t end) {
  double cycles = 0;
  double energy = 0;
  for (size_t i = first; i < end; ++i) {
    cycles += static_cast<double>(result.steps[i].layer_cycles);
    energy += result.steps[i].layer_energy_pj;
  }
  const double steps = static_cast<double>(end - first);
  return {{"cycles", cycles / steps},
          {"seconds", cycles / steps / result.device.clock_hz},
          {"energy_pj", energy / steps}};
}

nlohmann::json request_json(const ModelRequest& r) {
  nlohmann::json json = {{"batch", r.batch}};
  switch (r.kind) {
    case ModelRequest::Prefill: json["seq"] = r.seq; break;
    case ModelRequest::Decode: json["kv_len"] = r.cached; break;
    case ModelRequest::Generate:
      json["input"] = r.input;
      json["output"] = r.output;
      break;
  }
  return json;
}

// The higher roofline floor, or "none" for an op that costs nothing itself (the KV-cache
// read, whose bytes and time its attention kernels count).
std::string bound_of(const OpResult& op) { return op.cycles == 0 ? "none" : op.roofline.bound(); }

std::string layers_note(const StepResult& step, uint64_t layers) {
  if (step.simulated_layers() <= 1) {
    return "the " + std::to_string(layers) + " layers are identical in shape: one is simulated per step and counted " +
           std::to_string(layers) + " times";
  }
  return "the " + std::to_string(layers) + " layers differ in shape (dense and expert MLPs, or sliding-window and "
         "global attention): " + std::to_string(step.simulated_layers()) +
         " are simulated per step, one of each run of layers alike, and counted for the run";
}

std::string check_text(const NumericsReport& n) {
  return !n.checked ? "-" : n.passed ? "pass" : "FAIL";
}

void print_step(const RunResult& result, const StepResult& step, std::ostream& out) {
  out << workloads::phase_text(*step.phase) << ", ";
  print_op_table(step, result.device.clock_hz, out);
}

}  // namespace

void print_op_table(const StepResult& step, double clock, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  if (step.simulated_layers() <= 1) {
    out << step.layers << " identical layers: one simulated, counted " << step.layers << " times\n";
  } else {
    out << step.layers << " layers, " << step.simulated_layers()
        << " simulated: one of each run of layers alike, counted for the run\n";
  }
  // Columns as wide as their longest entry, with a space after it.
  int name_width = 22, kind_width = 15, shape_width = 24;
  for (const OpResult& op : step.ops) {
    name_width = std::max(name_width, static_cast<int>(op.name.size()) + 1);
    kind_width = std::max(kind_width, static_cast<int>(workloads::kind_name(op.kind).size()) + 1);
    shape_width = std::max(shape_width, static_cast<int>(op.shape.size()) + 1);
  }
  out << std::left << std::setw(name_width) << "op" << std::setw(kind_width) << "kind" << std::setw(shape_width)
      << "shape" << std::right
      << std::setw(5) << "x" << std::setw(12) << "cycles" << std::setw(11) << "total ms" << std::setw(7) << "util"
      << std::setw(11) << "DRAM MB" << std::setw(11) << "energy uJ" << std::setw(9) << "bound" << std::setw(7)
      << "check" << '\n';
  for (const OpResult& op : step.ops) {
    out << std::left << std::setw(name_width) << op.name << std::setw(kind_width) << workloads::kind_name(op.kind)
        << std::setw(shape_width) << op.shape << std::right << std::setw(5) << op.repeats << std::setw(12) << op.cycles << std::fixed
        << std::setprecision(3) << std::setw(11) << static_cast<double>(op.cycles * op.repeats) / clock * 1e3
        << std::setprecision(2) << std::setw(7) << op.utilization << std::setw(11)
        << static_cast<double>(dram_bytes(op.activity)) / 1e6 << std::setw(11) << op.energy.total_pj() / 1e6
        << std::setw(9) << bound_of(op) << std::setw(7) << check_text(op.numerics) << '\n';
    out.flags(flags);
  }
  out << std::fixed << std::setprecision(4) << "one layer " << static_cast<double>(step.layer_cycles) / clock * 1e3
      << " ms, " << std::setprecision(2) << step.layer_energy_pj / 1e6 << " uJ;  whole model "
      << std::setprecision(4) << static_cast<double>(step.cycles) / clock * 1e3 << " ms, " << std::setprecision(2)
      << step.energy.total_pj() / 1e6 << " uJ, " << static_cast<double>(dram_bytes(step.activity)) / 1e9
      << " GB DRAM\n";
  out.flags(flags);
}

nlohmann::json model_summary_json(const RunResult& result) {
  const DeviceFacts& device = result.device;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
  uint64_t flops = 0;
  uint64_t macs = 0;
  uint64_t roofline_cycles = 0;
  for (const StepResult& step : result.steps) {
    activity += step.activity;
    energy += step.energy;
    flops += step.flops;
    macs += step.macs;
    roofline_cycles += step.roofline_cycles;
  }
  const uint64_t layers = model_of(result).model.num_hidden_layers;
  nlohmann::json per_layer;
  const bool generate = model_of(result).request.kind == ModelRequest::Generate;
  per_layer[phase_name(*result.steps.front().phase)] = layer_json(result, 0, 1);
  if (generate) per_layer["decode"] = layer_json(result, 1, result.steps.size());
  const auto generate_only = [&](double value) { return generate ? nlohmann::json(value) : nlohmann::json(); };
  const double peak = device.peak_macs_per_cycle(result.dtype()) * static_cast<double>(result.cycles());
  nlohmann::json summary = {
      {"arch", device.name},
      {"arch_file", device.source_file},
      {"model", model_of(result).model.name},
      {"phase", request_kind_name(model_of(result).request.kind)},
      {"request", request_json(model_of(result).request)},
      {"dtype", std::string(arch::to_string(result.dtype()))},
      {"attention", attention_name(model_of(result).attention)},
      {"clock_hz", device.clock_hz},
      {"area_mm2", device.area_mm2 ? nlohmann::json(*device.area_mm2) : nlohmann::json()},
      {"layers", layers},
      {"layers_note", layers_note(result.steps.front(), layers)},
      {"steps", result.steps.size()},
      {"total_cycles", result.cycles()},
      {"roofline_cycles", roofline_cycles},
      {"seconds", result.seconds()},
      {"ttft_s", generate_only(result.ttft_s())},
      {"tpot_s", generate_only(result.tpot_s())},
      {"tokens_per_s", generate_only(result.tokens_per_s())},
      {"flops", flops},
      {"macs", macs},
      {"utilization", peak > 0 ? static_cast<double>(macs) / peak : 0.0},
      {"dram_read_bytes", activity.dram_read_bytes},
      {"dram_write_bytes", activity.dram_write_bytes},
      {"sram_read_bytes", activity.sram_read_bytes()},
      {"sram_write_bytes", activity.sram_write_bytes()},
      {"energy_pj", energy.total_pj()},
      {"energy_breakdown_pj", energy_breakdown_json(energy)},
      {"tensor_parallel", tensor_parallel(result)},
      {"group_energy_pj", energy.total_pj() * static_cast<double>(tensor_parallel(result))},
      {"per_layer", per_layer},
      {"quant", quant_json(model_of(result).model.quant)},
      {"weight_bytes", result.weight_bytes},
      {"kv_cache_bytes", result.kv_cache_bytes},
      {"dram_capacity_bytes",
       device.dram_capacity_bytes() ? nlohmann::json(*device.dram_capacity_bytes()) : nlohmann::json()},
      {"fits_in_dram", result.fits_in_dram() ? nlohmann::json(*result.fits_in_dram()) : nlohmann::json()},
      {"numerics",
       {{"checked", result.ops_checked() > 0},
        {"passed", numerics_passed_json(result.ops_checked() > 0, result.numerics_passed())},
        {"ops_checked", result.ops_checked()},
        {"scheme", scheme_json(result.scheme_numerics())},
        {"scheme_layer", scheme_layer_json(result.scheme_layer)}}},
      {"warnings", model_of(result).model.warnings},
  };
  add_resources_json(summary, device.resources);
  const workloads::ModelConfig& config = model_of(result).model;
  if (config.mixture_of_experts()) {
    const double skew = model_of(result).expert_skew;
    summary["moe"] = {{"experts", config.experts},
                      {"experts_per_token", config.experts_per_token},
                      {"shared_experts", config.shared_experts},
                      {"dense_layers", config.first_dense_layers},
                      {"expert_skew", skew},
                      {"routing", skew == 1.0 ? "uniform: every expert gets the mean of the tokens"
                                              : "skewed: the busiest expert gets expert_skew times the mean"}};
  }
  return summary;
}

StatGroup model_stats_tree(const RunResult& result) {
  StatGroup root("run", "tessel run of " + model_of(result).model.name + " on " + result.device.name);
  root.add("total_cycles", result.cycles(), "cycles", "every step, one after another")
      .add("seconds", result.seconds(), "s", "total cycles at the architecture's clock");
  StatGroup& steps = root.child("steps", "one group per forward step: the prefill, then each decode step; "
                                         "the first and the last list their ops");
  for (size_t i = 0; i < result.steps.size(); ++i) {
    const StepResult& step = result.steps[i];
    const workloads::Phase& phase = *step.phase;
    StatGroup& group = steps.child(std::to_string(i) + "_" + phase_name(phase), workloads::phase_text(phase));
    group.add("cycles", step.cycles, "cycles", "the step: each op's cycles times its repeats")
        .add("layer_cycles", step.layer_cycles, "cycles", "one layer")
        .add("roofline_cycles", step.roofline_cycles, "cycles", "the ops' roofline floors, summed");
    add_activity_stats(group, step.activity);
    add_energy_stats(group, step.energy);
    // Every op of every step is in layers.csv; here the first and last step keep theirs, so
    // a long generate run's tree stays small.
    if (i != 0 && i + 1 != result.steps.size()) continue;
    StatGroup& ops = group.child("ops", "one execution of each op, in order; repeats says how many the step runs");
    for (size_t j = 0; j < step.ops.size(); ++j) {
      const OpResult& op = step.ops[j];
      StatGroup& o = ops.child(std::to_string(j) + "_" + op.name, workloads::kind_name(op.kind) + " " + op.shape);
      o.add("repeats", op.repeats, "count", "executions in the step")
          .add("cycles", op.cycles, "cycles", "one execution")
          .add("roofline_cycles", op.roofline.cycles(), "cycles", "max(compute floor, memory floor)")
          .add("bound", bound_of(op), "which roofline floor is higher")
          .add("utilization", op.utilization, "ratio", "busy fraction of the arrays (matrix ops) or vector units")
          .add("dram_utilization", op.dram_utilization, "ratio", "DRAM bytes / (cycles × bandwidth)")
          .add("array_busy_cycles", op.array_busy_cycles, "cycles",
               "the busiest array's (Linear) or core's arrays' work")
          .add("vector_busy_cycles", op.vector_busy_cycles, "cycles", "the busiest core's vector unit's work")
          .add("dram_busy_cycles", op.dram_busy_cycles, "cycles", "cycles the DRAM channel moved data")
          .add("mapping", op.mapping, "the GEMM mapping, or how the op streamed")
          .add("reused", uint64_t{op.reused}, "count", "1 when an identical op's simulation was reused");
      add_activity_stats(o, op.activity);
      add_energy_stats(o, op.energy);
      for (const StatGroup& details : op.details) o.adopt(details);
      add_numerics_stats(o.child("numerics", "datapath values vs the fp64 reference"), op.numerics);
    }
  }
  return root;
}

void write_ops_csv(const RunResult& result, std::ostream& out, std::optional<uint64_t> stage, bool header) {
  if (header) out << "step,phase," << op_csv_columns() << (stage ? ",stage" : "") << '\n';
  out << std::setprecision(10);
  result.for_each_step([&](size_t i, const StepResult& step) {
    for (const OpResult& op : step.ops) {
      out << i << ',' << phase_name(*step.phase) << ',';
      write_op_csv_fields(op, out);
      if (stage) out << ',' << *stage;
      out << '\n';
    }
  });
}

const char* op_csv_columns() {
  return "op,kind,shape,repeats,flops,bytes,dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,cycles,"
         "total_cycles,roofline_cycles,bound,utilization,dram_utilization,energy_pj,total_energy_pj,mapping,reused,"
         "numerics_checked,numerics_passed,core_clock_mhz,power_w";
}

void write_op_csv_fields(const OpResult& op, std::ostream& out) {
  const arch::Activity& a = op.activity;
  out << csv_field(op.name) << ',' << workloads::kind_name(op.kind) << ',' << csv_field(op.shape) << ',' << op.repeats
      << ',' << op.flops << ',' << dram_bytes(a) << ',' << a.dram_read_bytes << ',' << a.dram_write_bytes << ','
      << a.sram_read_bytes() << ',' << a.sram_write_bytes() << ',' << op.cycles << ',' << op.cycles * op.repeats << ','
      << op.roofline.cycles() << ',' << bound_of(op) << ',' << op.utilization << ',' << op.dram_utilization << ','
      << op.energy.total_pj() << ',' << op.energy.total_pj() * static_cast<double>(op.repeats) << ','
      << csv_field(op.mapping) << ',' << (op.reused ? 1 : 0) << ',' << (op.numerics.checked ? 1 : 0) << ','
      << (op.numerics.checked && op.numerics.passed ? 1 : 0) << ',' << op.core_hz() / 1e6 << ',' << op.power_w();
}

std::string dram_capacity_warning(const RunResult& result) {
  if (result.fits_in_dram().value_or(true)) return "";
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << "warning: " << model_of(result).model.name << " needs "
       << static_cast<double>(result.weight_bytes) / 1e9 << " GB of weights and "
       << static_cast<double>(result.kv_cache_bytes) / 1e9 << " GB of KV cache"
       << "; " << result.device.name
       << "'s DRAM holds " << static_cast<double>(result.device.dram_capacity_bytes().value_or(0)) / 1e9
       << " GB: the figures are those of a model that fitted (a system of several, --system with --tp or --pp, "
          "shares it)";
  return text.str();
}

void print_model_steps(const RunResult& result, std::ostream& out) {
  print_step(result, result.steps.front(), out);
  if (result.steps.size() > 1) {
    out << "\nlast of " << result.steps.size() - 1 << " decode steps:\n";
    print_step(result, result.steps.back(), out);
  }
}

void print_model_table(const RunResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const workloads::QuantRecipe& quant = model_of(result).model.quant;
  out << model_of(result).model.name << " on " << result.device.name << " (" << arch::to_string(result.dtype())
      << (quant.empty() ? "" : ", quant " + quant.name) << ", " << attention_name(model_of(result).attention)
      << " attention)\n";
  print_model_steps(result, out);
  out << std::setprecision(6) << "\ntime " << result.seconds() * 1e3 << " ms at " << result.device.clock_hz / 1e6
      << " MHz";
  if (model_of(result).request.kind == ModelRequest::Generate) {
    out << "; TTFT " << result.ttft_s() * 1e3 << " ms, TPOT " << result.tpot_s() * 1e3 << " ms, "
        << result.tokens_per_s() << " tokens/s";
  }
  const uint64_t checked = result.ops_checked();
  if (checked > 0) out << "; numerics " << (result.numerics_passed() ? "pass" : "FAIL") << " (" << checked << " ops)";
  if (const std::optional<NumericsReport>& layer = result.scheme_layer) {
    out << "; a decoder layer under the recipe: SQNR " << std::setprecision(3) << layer->quantization_sqnr_db
        << " dB (the format alone " << layer->format_sqnr_db << " dB)" << (layer->passed ? "" : ", its check FAILED");
  }
  out << '\n';
  const std::string warning = dram_capacity_warning(result);
  if (!warning.empty()) out << warning << '\n';
  out.flags(flags);
}

}  // namespace tessel::sim
