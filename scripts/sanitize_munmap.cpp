// Preloaded by scripts/sanitize.sh. SystemC gives each thread a stack from mmap and returns it
// with munmap when its kernel is deleted. Threads still waiting when a run ends (servers that
// loop forever) leave their frames' redzones poisoned in AddressSanitizer's shadow, and GCC
// 12's runtime keeps that shadow across munmap, so the next thread stack mapped at the same
// addresses inherits it and reports overflows that are not there. Clearing the shadow of
// memory as it is unmapped restores what the runtime assumes of a fresh mapping.
// Uninstrumented programs the tests start (ctest, the shell, Python) inherit the preload: the
// runtime's entry point is weak, so there the shim only passes munmap on.
#include <dlfcn.h>

#include <cstddef>

extern "C" {
void __asan_unpoison_memory_region(void const volatile* address, size_t length) __attribute__((weak));

int munmap(void* address, size_t length) {
  using Munmap = int (*)(void*, size_t);
  static const auto real_munmap = reinterpret_cast<Munmap>(dlsym(RTLD_NEXT, "munmap"));
  if (__asan_unpoison_memory_region != nullptr) __asan_unpoison_memory_region(address, length);
  return real_munmap(address, length);
}
}
