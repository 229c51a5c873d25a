// A serving placement file (configs/placements/*.yaml): which devices decode, which run the
// prompts, which run attention apart, and what stays in host memory, in one file instead of
// the `tessel serve` flags that say the same. `--placement FILE` and tessel.serve(placement=)
// read it.
#pragma once

#include <string>

#include "cli/serve_command.h"

namespace tessel::cli {

// `flags` with the file's placement filled in; paths in the file are relative to it. Throws
// FlagError when `flags` already sets what the file does (naming the flag), and
// arch::ConfigError naming the file, line and key for a mistake in it.
ServeFlags with_placement_file(const ServeFlags& flags);

}  // namespace tessel::cli
