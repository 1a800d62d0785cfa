# Top-level list of FlexCharge C user modules for CMake-based ports (USER_C_MODULES points here).
include(${CMAKE_CURRENT_LIST_DIR}/flexcharge_c/micropython.cmake)
