// The devices a sweep worker has built, kept for the points after, each remembering the ops it
// ran: a point on hardware an earlier point ran on neither maps nor simulates the same layer
// shapes again. A device's result for an op depends only on its architecture, the op's
// identity (sim/step_runner.h) and the run's settings, except --dataflow, which re-configures
// the device: devices are told apart by the architecture file's text and that flag. A point's
// reports are the ones a run of its own makes.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "sim/device.h"

namespace tessel::cli {

class DevicePool {
 public:
  // Keeps at most `capacity` devices, the most recently used (a sweep's points on one piece of
  // hardware come together, its last key varying fastest), each remembering at most
  // `results_per_device` op results: memory stays bounded however many points run.
  DevicePool(size_t capacity, size_t results_per_device)
      : capacity_(capacity), results_per_device_(results_per_device) {}

  // The device `arch_file` describes, built on first use; the same one for a file of the same
  // text and the same `dataflow` flag.
  sim::Device& device(const std::string& arch_file, const std::string& dataflow);

 private:
  size_t capacity_;
  size_t results_per_device_;
  std::list<std::pair<std::string, std::unique_ptr<sim::Device>>> devices_;  // most recent first
};

}  // namespace tessel::cli
