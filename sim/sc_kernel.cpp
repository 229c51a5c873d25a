#include "sim/sc_kernel.h"

#include <cstdlib>
#include <systemc>

namespace tessel::sim {

namespace {

// SystemC prints its banner from libsystemc's main(), before sc_main() runs, unless this is
// set. Static initialisers of every program that links the engine run before that main().
[[maybe_unused]] const int kQuietBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

// Per-run settings that SystemC keeps in statics must be set again on every fresh context.
void apply_run_settings() {
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_INSTANCE_EXISTS_, sc_core::SC_DO_NOTHING);
}
}  // namespace

void fresh_kernel() {
  static sc_core::sc_simcontext* const first = sc_core::sc_get_curr_simcontext();
  sc_core::sc_simcontext* const previous = sc_core::sc_curr_simcontext;
  auto* context = new sc_core::sc_simcontext;
  sc_core::sc_curr_simcontext = context;
  sc_core::sc_default_global_context = context;
  if (previous != first) delete previous;
  apply_run_settings();
}

}  // namespace tessel::sim
