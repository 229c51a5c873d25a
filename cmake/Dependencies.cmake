# Every dependency comes from Debian 12; scripts/setup.sh installs them.

# SystemC: Debian ships pkg-config files only. Prefer an Accellera CMake package
# when a user has one, else wrap pkg-config in the same target name.
find_package(SystemCLanguage CONFIG QUIET)
if(NOT TARGET SystemC::systemc)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SYSTEMC REQUIRED IMPORTED_TARGET systemc>=2.3.3)
  pkg_check_modules(TLM REQUIRED IMPORTED_TARGET tlm)
  add_library(SystemC::systemc INTERFACE IMPORTED)
  target_link_libraries(SystemC::systemc INTERFACE PkgConfig::SYSTEMC PkgConfig::TLM)
  # SystemC's headers warn under -Wpedantic/-Wconversion; treat them as system headers.
  get_target_property(_sc_inc PkgConfig::SYSTEMC INTERFACE_INCLUDE_DIRECTORIES)
  if(_sc_inc)
    set_target_properties(SystemC::systemc PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_sc_inc}")
  endif()
endif()

find_package(Eigen3 3.3 REQUIRED CONFIG)
find_package(Boost 1.74 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED CONFIG)
find_package(Threads REQUIRED)

# fast-cpp-csv-parser (libfccp-dev): header only, needs pthread. Its strncpy of file names
# warns under -Wstringop-truncation with g++ 12 at -O3, after inlining, where a system
# include no longer hides it; the truncation is intended (fixed-size error buffers).
find_path(FCCP_INCLUDE_DIR libfccp/csv.h REQUIRED)
add_library(fccp INTERFACE)
target_include_directories(fccp SYSTEM INTERFACE ${FCCP_INCLUDE_DIR})
target_compile_options(fccp INTERFACE -Wno-stringop-truncation)
target_link_libraries(fccp INTERFACE Threads::Threads)

# The Python module is built for Debian's interpreter, which has the packages the Python side
# uses (numpy, pandas, matplotlib); another python3 first on PATH may lack them.
if(TESSEL_BUILD_PYTHON)
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python 3 REQUIRED COMPONENTS Interpreter Development.Module)
  set(PYBIND11_FINDPYTHON ON)
  find_package(pybind11 2.6 REQUIRED CONFIG)
endif()
