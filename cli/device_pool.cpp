#include "cli/device_pool.h"

#include <filesystem>
#include <map>
#include <stdexcept>

#include "cli/cli_common.h"
#include "sim/step_runner.h"

namespace tessel::cli {

namespace {

// What of a run's settings an op's result depends on (decode_stride is the run's, not an op's).
std::string settings_identity(const sim::RunSettings& settings) {
  std::string id(settings.dtype ? arch::to_string(*settings.dtype) : "-");
  id += " " + std::string(settings.dataflow ? arch::to_string(*settings.dataflow) : "-");
  id += " " + std::to_string(settings.search_dataflows) + " " + std::string(mapper::to_string(settings.objective));
  id += " " + (settings.pinned ? settings.pinned->describe() : std::string("-"));
  id += " " + std::to_string(settings.confirm) + " " + std::to_string(static_cast<int>(settings.check));
  id += " " + std::to_string(settings.check_limit_macs) + " " + std::to_string(settings.check_limit_elements);
  return id + " " + std::to_string(settings.seed);
}

// A device that runs an op it ran before (same identity, same settings) by returning the
// result it got then; everything else is the device's own.
class RememberingDevice : public sim::Device {
 public:
  RememberingDevice(std::unique_ptr<sim::Device> device, size_t capacity)
      : device_(std::move(device)), capacity_(capacity) {}

  const sim::DeviceFacts& facts() const override { return device_->facts(); }
  sim::RunSettings configure(sim::RunSettings settings) override { return device_->configure(std::move(settings)); }
  sim::OpResult run(const workloads::Op& op, const sim::RunSettings& settings) override {
    const std::string key = sim::op_identity(op) + " | " + settings_identity(settings);
    if (const auto seen = results_.find(key); seen != results_.end()) return seen->second;
    sim::OpResult result = device_->run(op, settings);
    if (results_.size() >= capacity_) results_.clear();
    results_.emplace(key, result);
    return result;
  }
  uint64_t transactions(const workloads::Op& op, const sim::RunSettings& settings) override {
    return device_->transactions(op, settings);
  }
  arch::EnergyBreakdown energy(const arch::Activity& activity, arch::DType dtype) const override {
    return device_->energy(activity, dtype);
  }
  void describe(std::ostream& out) const override { device_->describe(out); }
  MappingReport explain_mapping(const workloads::Gemm& gemm, const sim::RunSettings& settings, size_t top,
                                uint64_t seed) override {
    return device_->explain_mapping(gemm, settings, top, seed);
  }

 private:
  std::unique_ptr<sim::Device> device_;
  size_t capacity_;
  std::map<std::string, sim::OpResult> results_;
};

}  // namespace

sim::Device& DevicePool::device(const std::string& arch_file, const std::string& dataflow) {
  if (!std::filesystem::is_regular_file(arch_file)) throw std::runtime_error("cannot read " + arch_file);
  const std::string key = read_text(arch_file) + "\n--dataflow " + dataflow;
  for (auto at = devices_.begin(); at != devices_.end(); ++at) {
    if (at->first != key) continue;
    devices_.splice(devices_.begin(), devices_, at);
    return *devices_.front().second;
  }
  devices_.emplace_front(std::move(key),
                         std::make_unique<RememberingDevice>(load_device(arch_file), results_per_device_));
  if (devices_.size() > capacity_) devices_.pop_back();
  return *devices_.front().second;
}

}  // namespace tessel::cli
