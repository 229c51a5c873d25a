// libsystemc provides main() and calls sc_main(); the test binary runs GoogleTest from here.
#include <gtest/gtest.h>

extern "C" int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
