#include "arch/config_power.h"

namespace tessel::arch {

PowerSpec read_power(const yaml::Reader& reader, const yaml::Field& field) {
  const yaml::Mapping power(reader, field, {"idle_w", "static_w", "limit_w"});
  PowerSpec spec{reader.at_least_zero(power.required("idle_w")), 0.0, std::nullopt};
  const yaml::Field static_field = power.required("static_w");
  spec.static_w = reader.at_least_zero(static_field);
  if (spec.static_w < spec.idle_w) reader.fail(static_field, "must be at least idle_w (a running board draws more)");
  if (const std::optional<yaml::Field> limit = power.optional("limit_w")) {
    spec.limit_w = reader.above_zero(*limit);
    if (*spec.limit_w <= spec.static_w) reader.fail(*limit, "must be above static_w, or nothing could run");
  }
  return spec;
}

PowerSpec read_fixed_clock_power(const yaml::Reader& reader, const yaml::Field& field) {
  const yaml::Mapping power(reader, field, {"idle_w", "static_w", "limit_w"});
  if (const std::optional<yaml::Field> limit = power.optional("limit_w")) {
    reader.fail(*limit, "this kind's clock stays at clock_mhz (only GPUs and CPUs lower it under a limit): "
                        "remove the key");
  }
  return read_power(reader, field);
}

}  // namespace tessel::arch
