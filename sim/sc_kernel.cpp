#include "sim/sc_kernel.h"

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace tessel::sim {

namespace {

// SystemC prints its banner from libsystemc's main(), before sc_main() runs, unless this is
// set. Static initialisers of every program that links the engine run before that main().
[[maybe_unused]] const int kQuietBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

// Per-run settings that SystemC keeps in statics must be set again on every fresh context.
void apply_run_settings() {
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_INSTANCE_EXISTS_, sc_core::SC_DO_NOTHING);
}

// SystemC 2.3.4 tells AddressSanitizer when it switches into a thread's stack, but not when a
// thread that ends leaves its stack (sc_cor_pkg_qt::abort), and it names the caller's stack
// as empty when a thread yields back to it. After a run AddressSanitizer may therefore take
// a finished thread's unmapped stack for the current one; it then skips the stack cleanup
// that a throw asks for ("ignoring requested __asan_handle_no_return") and later calls trip
// over stale poison. Naming the caller's own stack again after each run puts that right.
void restore_sanitizer_stack() {
#if defined(__SANITIZE_ADDRESS__)
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return;
  void* bottom = nullptr;
  size_t size = 0;
  pthread_attr_getstack(&attributes, &bottom, &size);
  pthread_attr_destroy(&attributes);
  __sanitizer_start_switch_fiber(nullptr, bottom, size);
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
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

void run_kernel() {
  sc_core::sc_start();
  restore_sanitizer_stack();
}

void run_kernel(const sc_core::sc_time& duration) {
  sc_core::sc_start(duration);
  restore_sanitizer_stack();
}

}  // namespace tessel::sim
